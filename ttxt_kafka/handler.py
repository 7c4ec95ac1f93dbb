"""Event handlers: one method per event type, and a client that feeds a queue into them.

`IEventHandler` has a no-op method for every event of the catalogue; override the ones you need.
Handlers may be plain or `async` methods. Which method an event goes to is part of its
registration (`ttxt_kafka.registry`), so a custom event reaches its own `on_<name>` method.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from typing import Any

from .bus.interfaces import IQueue, IQueueActor
from .events import (
    BBO,
    AmendOrder,
    CancelAllOrders,
    CancelOrder,
    ConnectorStatus,
    CreateOrder,
    Event,
    Fill,
    InstrumentInfo,
    Kline,
    OrderAck,
    OrderBook,
    OrderUpdate,
    PositionUpdate,
    Trades,
    Wallet,
)
from .registry import REGISTRY, Registry

log = logging.getLogger(__name__)


class IEventHandler:
    """Receives events, one method per type. Every method defaults to doing nothing."""

    def on_orderbook(self, event: OrderBook) -> Any: ...
    def on_trades(self, event: Trades) -> Any: ...
    def on_kline(self, event: Kline) -> Any: ...
    def on_bbo(self, event: BBO) -> Any: ...
    def on_connector_status(self, event: ConnectorStatus) -> Any: ...
    def on_instrument_info(self, event: InstrumentInfo) -> Any: ...
    def on_order_ack(self, event: OrderAck) -> Any: ...
    def on_order_update(self, event: OrderUpdate) -> Any: ...
    def on_fill(self, event: Fill) -> Any: ...
    def on_wallet(self, event: Wallet) -> Any: ...
    def on_position(self, event: PositionUpdate) -> Any: ...
    def on_create_order(self, event: CreateOrder) -> Any: ...
    def on_cancel_order(self, event: CancelOrder) -> Any: ...
    def on_amend_order(self, event: AmendOrder) -> Any: ...
    def on_cancel_all_orders(self, event: CancelAllOrders) -> Any: ...

    def on_unhandled(self, event: Event) -> Any:
        """An event whose handler method this object does not have (e.g. a custom event)."""


class Dispatcher:
    """Calls the right handler method for each event; awaits it if it is a coroutine."""

    def __init__(self, handler: Any, registry: Registry | None = None) -> None:
        self.handler = handler
        self.registry = registry or REGISTRY
        self._methods: dict[type[Event], Any] = {}

    def method_for(self, event: Event) -> Any:
        cls = type(event)
        method = self._methods.get(cls)
        if method is None:
            et = self.registry.by_class.get(cls)
            name = et.handler if et is not None else ""
            method = getattr(self.handler, name, None) or self.handler.on_unhandled
            self._methods[cls] = method
        return method

    async def dispatch(self, event: Event) -> None:
        result = self.method_for(event)(event)
        if inspect.isawaitable(result):
            await result


class BaseClient(IEventHandler, IQueueActor):
    """User code's base class: reads events from a queue and dispatches them to handlers.

    `publish_queue` (optional) is where the client writes its own events, e.g. order commands.
    A handler that raises is logged and counted (`errors`); the loop goes on, unless
    `stop_on_error` is set.
    """

    def __init__(
        self,
        queue: IQueue,
        publish_queue: IQueue | None = None,
        *,
        stop_on_error: bool = False,
    ) -> None:
        self.queue = queue
        self.publish_queue = publish_queue
        self.stop_on_error = stop_on_error
        self.errors = 0
        self.handled = 0
        self._dispatcher = Dispatcher(self)

    async def queue_reader(self, queue: IQueue) -> None:
        while True:
            event = await queue.poll()
            try:
                await self._dispatcher.dispatch(event)
            except asyncio.CancelledError:
                raise
            except Exception:
                self.errors += 1
                log.exception("%s handler failed on %s %s", type(self).__name__,
                              event.SCHEMA, event.symbol)
                if self.stop_on_error:
                    raise
            self.handled += 1
            queue.task_done()

    async def run(self) -> None:
        """Read the client's queue until cancelled."""
        await self.queue_reader(self.queue)

    async def publish(self, event: Event) -> None:
        if self.publish_queue is None:
            raise RuntimeError(f"{type(self).__name__} has no publish_queue")
        await self.publish_to_queue(self.publish_queue, event)
