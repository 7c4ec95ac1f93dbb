"""The replayer: recorded files, or topics rewound to a time, back into Kafka or a process.

See `ttxt_kafka.replayer.api` for the in-process API and `ttxt replay --help` for the command line.
"""

from .api import ReplayStats, replay_events, replay_to_queue, run_replay
from .files import CorruptBlockError, FileSource
from .kafka_source import KafkaSource
from .pace import Pacer, parse_speed
from .selection import Selection, parse_time
from .sinks import Decoder, KafkaSink, PrintSink, QueueSink

__all__ = [
    "CorruptBlockError",
    "Decoder",
    "FileSource",
    "KafkaSink",
    "KafkaSource",
    "Pacer",
    "PrintSink",
    "QueueSink",
    "ReplayStats",
    "Selection",
    "parse_speed",
    "parse_time",
    "replay_events",
    "replay_to_queue",
    "run_replay",
]
