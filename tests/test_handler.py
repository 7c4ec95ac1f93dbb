"""Dispatch to handler methods, the in-process queue, and adding a custom event."""

from __future__ import annotations

import asyncio

import pytest
from custom_event import FundingRate
from samples import all_samples, header

from ttxt_kafka.bus import AsyncioQueue
from ttxt_kafka.codec import decode, encode
from ttxt_kafka.events import Event, OrderBook
from ttxt_kafka.handler import BaseClient
from ttxt_kafka.topics import topic_for

HANDLERS = {
    "OrderBook": "on_orderbook", "Trades": "on_trades", "Kline": "on_kline", "BBO": "on_bbo",
    "ConnectorStatus": "on_connector_status", "InstrumentInfo": "on_instrument_info",
    "OrderAck": "on_order_ack", "OrderUpdate": "on_order_update", "Fill": "on_fill",
    "Wallet": "on_wallet", "PositionUpdate": "on_position", "CreateOrder": "on_create_order",
    "CancelOrder": "on_cancel_order", "AmendOrder": "on_amend_order",
    "CancelAllOrders": "on_cancel_all_orders",
}


class Recorder(BaseClient):
    """Records which method got which event; on_trades is async, on_bbo raises once."""

    def __init__(self, queue: AsyncioQueue) -> None:
        super().__init__(queue)
        self.calls: list[tuple[str, Event]] = []
        self.bbo_failures = 0
        for name in HANDLERS.values():
            if name not in ("on_trades", "on_bbo"):
                setattr(self, name, self._recording(name))

    def _recording(self, name: str):  # type: ignore[no-untyped-def]
        return lambda event: self.calls.append((name, event))

    async def on_trades(self, event):  # type: ignore[no-untyped-def, override]
        await asyncio.sleep(0)
        self.calls.append(("on_trades", event))

    def on_bbo(self, event):  # type: ignore[no-untyped-def, override]
        if self.bbo_failures == 0:
            self.bbo_failures += 1
            raise RuntimeError("strategy bug")
        self.calls.append(("on_bbo", event))

    def on_unhandled(self, event):  # type: ignore[no-untyped-def, override]
        self.calls.append(("on_unhandled", event))


async def _drain(client: BaseClient, queue: AsyncioQueue) -> None:
    task = asyncio.create_task(client.run())
    await asyncio.wait_for(queue.flush(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_each_event_reaches_its_handler_method_and_errors_do_not_stop_the_loop() -> None:
    queue = AsyncioQueue()
    client = Recorder(queue)
    samples = all_samples()
    bbo = next(e for e in samples if e.SCHEMA == "BBO")
    for event in [bbo, *samples]:  # the first BBO makes the handler raise
        await queue.publish(event)
    await _drain(client, queue)
    assert client.errors == 1
    assert [(name, e) for name, e in client.calls] == [(HANDLERS[e.SCHEMA], e) for e in samples]


async def test_custom_event_needs_only_schema_class_and_handler() -> None:
    """The README's recipe: the .avsc, the class, register_event; then it travels like any other."""

    class FundingWatcher(BaseClient):
        def __init__(self, queue: AsyncioQueue) -> None:
            super().__init__(queue)
            self.rates: list[str] = []

        def on_funding_rate(self, event: FundingRate) -> None:
            self.rates.append(event.rate)

    event = FundingRate(**header(venue="binance_usdm"), rate="0.00010000",  # type: ignore[arg-type]
                        next_funding_ts=1_700_000_000_000_000)
    data = encode(event)
    assert decode(data) == event
    assert topic_for(event) == "ttxt.binance_usdm.funding"
    queue = AsyncioQueue()
    watcher = FundingWatcher(queue)
    await queue.publish(decode(data))
    await queue.publish(next(e for e in all_samples() if isinstance(e, OrderBook)))
    await _drain(watcher, queue)
    assert watcher.rates == ["0.00010000"]
    assert watcher.handled == 2 and watcher.errors == 0


async def test_asyncio_queue_applies_backpressure() -> None:
    queue = AsyncioQueue(capacity=2)
    ev = all_samples()[0]
    queue.put_nowait(ev)
    await queue.publish(ev)
    blocked = asyncio.create_task(queue.publish(ev))
    await asyncio.sleep(0.01)
    assert not blocked.done()
    assert await queue.poll() is ev
    await asyncio.wait_for(blocked, 1)
    assert queue.qsize() == 2
