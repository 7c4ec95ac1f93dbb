"""The bus that moves events between connectors and user code.

The seed's concepts stay: `IQueue` (publish / poll), `IQueuePublisher`, `IQueueConsumer`,
`IQueueActor`. Two implementations: `AsyncioQueue` (in-process, the embedded default for library
use and backtests) and `KafkaQueue` (the platform's backbone).
"""

from .asyncio_queue import AsyncioQueue
from .interfaces import IQueue, IQueueActor, IQueueConsumer, IQueuePublisher
from .kafka_queue import KafkaQueue, KafkaUnavailableError, QueueStats

__all__ = [
    "AsyncioQueue",
    "IQueue",
    "IQueueActor",
    "IQueueConsumer",
    "IQueuePublisher",
    "KafkaQueue",
    "KafkaUnavailableError",
    "QueueStats",
]
