"""Backtest test data: the simulator's synthetic market as our events, recorded into files.

`synthetic_market` steps the simulator's seeded order flow (`ttxt_kafka.simulator.market.flow`) —
the same
market the simulator serves to connectors — and turns it into what a Binance connector would
publish: an InstrumentInfo, a book SNAPSHOT, then per step a Trades event for the step's taker
trade and an OrderBook DELTA of the levels it changed, with Binance's 8-decimal strings.
`record_files` writes events through the recorder's own file stage (`Compactor` +
`ArchiveWriter`, exactly what `ttxt record` does with each fetch) as if they came off Kafka.
"""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from aiokafka import TopicPartition
from aiokafka.structs import ConsumerRecord

from ttxt_kafka.codec import encode
from ttxt_kafka.events import (
    Event,
    InstrumentInfo,
    MarketType,
    OrderBook,
    Side,
    Trade,
    Trades,
    UpdateType,
)
from ttxt_kafka.recorder.buffers import FlushPolicy
from ttxt_kafka.recorder.compactor import Compactor
from ttxt_kafka.recorder.writer import ArchiveWriter
from ttxt_kafka.simulator.market.flow import OrderFlow
from ttxt_kafka.simulator.market.instruments import default_instrument
from ttxt_kafka.topics import TYPE_HEADER, key_for, topic_for

T0_MS = 1_700_000_000_000  # 2023-11-14T22:13:20Z


def synthetic_market(venue: str = "binance", symbol: str = "BTC/USDT", *, steps: int = 3000,
                     seed: int = 7, step_ms: int = 100, depth: int = 50,
                     instrument_info: bool = True) -> list[Event]:
    native = symbol.replace("/", "")
    inst = default_instrument(native)
    flow = OrderFlow(inst, seed)
    base, quote = symbol.split("/")

    def px(ticks: int) -> str:
        return inst.price(ticks, 8)

    def qty(lots: int) -> str:
        return inst.qty(lots, 8)

    head: dict[str, Any] = {"venue": venue, "symbol": symbol, "native_symbol": native}
    t0 = T0_MS * 1000
    events: list[Event] = []
    if instrument_info:
        events.append(InstrumentInfo(
            **head, exchange_ts=t0, receive_ts=t0,
            market_type=MarketType.LINEAR if venue.endswith("usdm") else MarketType.SPOT,
            base=base, quote=quote, trading=True, tick_size=inst.tick_size,
            lot_size=inst.lot_size, min_qty=inst.lot_size, min_notional="5"))
    book = flow.book
    seq = 1000
    events.append(OrderBook(**head, exchange_ts=t0 + 1000, receive_ts=t0 + 1000, sequence=seq,
                            update_type=UpdateType.SNAPSHOT, depth=depth,
                            bids=[[px(p), qty(q)] for p, q in book.bids.top(depth)],
                            asks=[[px(p), qty(q)] for p, q in book.asks.top(depth)]))
    for i in range(1, steps + 1):
        ts_ms = T0_MS + i * step_ms
        step = flow.step(ts_ms)
        ts = ts_ms * 1000
        if step.trade is not None:
            tr = step.trade
            events.append(Trades(**head, exchange_ts=ts - 500, receive_ts=ts - 500,
                                 trades=[Trade(trade_id=str(tr.number), price=px(tr.price),
                                               qty=qty(tr.qty),
                                               side=Side.BUY if tr.taker_buy else Side.SELL,
                                               exchange_ts=ts - 500)]))
        first = seq + 1
        seq += step.changes
        events.append(OrderBook(**head, exchange_ts=ts, receive_ts=ts, sequence=seq,
                                first_sequence=first, update_type=UpdateType.DELTA,
                                bids=[[px(p), qty(q)] for p, q in sorted(step.bids.items())],
                                asks=[[px(p), qty(q)] for p, q in sorted(step.asks.items())]))
    return events


def consumer_records(events: list[Event], prefix: str = "ttxt") -> dict[str, list[object]]:
    """The events as a consumer would fetch them: per topic (one partition), offsets 0, 1, ..."""
    out: dict[str, list[object]] = defaultdict(list)
    for event in events:
        topic = topic_for(event, prefix)
        value = encode(event)
        records = out[topic]
        records.append(ConsumerRecord(topic, 0, len(records), event.exchange_ts // 1000, 0,
                                      key_for(event), value, None, 0, len(value),
                                      ((TYPE_HEADER, event.SCHEMA.encode()),)))
    return out


def record_files(events: list[Event], directory: Path, prefix: str = "ttxt") -> Path:
    """Write the events with the recorder's file stage into `directory`."""
    core = Compactor(ArchiveWriter(directory), FlushPolicy()).open()
    try:
        now = time.monotonic()
        for topic, records in sorted(consumer_records(events, prefix).items()):
            core.ingest(TopicPartition(topic, 0), records, now)
            core.write_ready(now=now)
        core.write_ready(everything=True)
    finally:
        core.close()
    return directory
