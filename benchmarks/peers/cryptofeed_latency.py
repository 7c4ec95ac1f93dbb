"""cryptofeed's side of the latency benchmark, run as its own processes (in .bench-venv):

    python -m benchmarks.peers.cryptofeed_latency feed WS REST BOOTSTRAP KEY
        cryptofeed's Binance feed against the simulator (its endpoints replaced), L2_BOOK into
        Kafka through its Kafka backend (BookKafka), until SIGTERM;
    python -m benchmarks.peers.cryptofeed_latency consume BOOTSTRAP KEY OUT
        a plain aiokafka consumer of what BookKafka writes: per record the wall clock (ns) when
        it is decoded, and the update's sequence number; written to OUT at SIGTERM.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from typing import Any


def feed(ws: str, rest: str, bootstrap: str, key: str) -> None:
    from cryptofeed import FeedHandler, connection
    from cryptofeed.backends.kafka import BookKafka
    from cryptofeed.connection import RestEndpoint, Routes, WebsocketEndpoint
    from cryptofeed.defines import L2_BOOK
    from cryptofeed.exchanges import Binance

    # cryptofeed refuses any address but wss://; the simulator is plain ws:// on localhost.
    # The one change to cryptofeed: accept it (nothing else in its path differs).
    original = connection.WSAsyncConn.__init__

    def plain_ws(self: object, address: str, *args: object, **kw: object) -> None:
        original(self, address.replace("ws://", "wss://", 1), *args, **kw)
        self.address = address  # type: ignore[attr-defined]

    connection.WSAsyncConn.__init__ = plain_ws  # type: ignore[method-assign]

    class SimBinance(Binance):  # the simulator speaks Binance's protocol at these URLs
        websocket_endpoints = [WebsocketEndpoint(ws)]
        rest_endpoints = [RestEndpoint(rest, routes=Routes(
            "/api/v3/exchangeInfo", l2book="/api/v3/depth?symbol={}&limit={}"))]

    class SeqBookKafka(BookKafka):
        """BookKafka, plus the update id in each record (its JSON has none), to join on."""

        async def __call__(self, book: Any, receipt_timestamp: float) -> None:
            self._sequence = book.sequence_number
            await super().__call__(book, receipt_timestamp)

        async def write(self, data: dict[str, Any]) -> None:
            data["sequence_number"] = self._sequence
            await super().write(data)

    # Same durability as ours (acks=all, idempotent); numbers as strings (exact).
    book = SeqBookKafka(key=key, bootstrap_servers=bootstrap, acks="all", enable_idempotence=True,
                     numeric_type=str)
    handler = FeedHandler()  # installs uvloop's policy, which starts without a loop
    asyncio.set_event_loop(asyncio.new_event_loop())  # run() asks for the current one
    handler.add_feed(SimBinance(symbols=["BTC-USDT"], channels=[L2_BOOK],
                                callbacks={L2_BOOK: book}, max_depth=1000))
    handler.run()  # stops on SIGINT/SIGTERM


async def consume(bootstrap: str, key: str, out: str) -> None:
    from aiokafka import AIOKafkaConsumer

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="latest",
                                metadata_max_age_ms=1000, fetch_max_wait_ms=100)
    consumer.subscribe(pattern=f"^{key}-")
    await consumer.start()
    rows: list[tuple[int, int]] = []
    try:
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=100)
            for records in batches.values():
                for r in records:
                    data = json.loads(r.value)
                    if data.get("delta"):  # the exchange's updates, not the snapshot
                        rows.append((time.time_ns(), int(data.get("sequence_number") or 0)))
    finally:
        await consumer.stop()
        with open(out, "w") as f:
            json.dump(rows, f)


if __name__ == "__main__":
    mode, *args = sys.argv[1:]
    if mode == "feed":
        feed(*args)
    else:
        asyncio.run(consume(*args))
