"""The strategy runtime (Kafka consumer groups) and example strategies.

    from ttxt_kafka.strategies import Strategy, run

    class SpreadMonitor(Strategy):
        venues = ["binance"]
        channels = ["book"]

        def on_orderbook(self, event):
            book = self.ctx.book(event.symbol)
            print(event.symbol, book.best_bid(), book.best_ask())

    run(SpreadMonitor())

Layout: `strategy` (the base class users write), `context` (`ctx`: commands and state),
`runtime` (events -> state -> handlers -> commands, no I/O), `sinks` (where commands go),
`queue_runner` (in-process sources), `kafka_runner` + `rebuild` (the consumer group),
`app` (one-call run), `books`, `orders`, `account`, `ids`, `subscription`, `metrics`.
"""

from .app import run, run_strategy
from .context import BookNotReady, Context, OrderError
from .kafka_runner import KafkaRunner
from .orders import OpenOrder
from .queue_runner import run_events, run_queue
from .rebuild import RebuildReport
from .runtime import StrategyRuntime
from .sinks import KafkaSink, ListSink, OrderSink, QueueSink
from .strategy import ParamError, Strategy

__all__ = [
    "BookNotReady",
    "Context",
    "KafkaRunner",
    "KafkaSink",
    "ListSink",
    "OpenOrder",
    "OrderError",
    "OrderSink",
    "ParamError",
    "QueueSink",
    "RebuildReport",
    "Strategy",
    "StrategyRuntime",
    "run",
    "run_events",
    "run_queue",
    "run_strategy",
]
