"""Backtests over what really went through Kafka: the recorder's files of real topics, and
the same history read back from Kafka replay topics and from the topics rewound."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from backtest_helpers import synthetic_market
from recorder_helpers import Rec, fresh_prefix, produce, ttxt

from ttxt_kafka.codec import encode
from ttxt_kafka.replayer import FileSource, run_replay
from ttxt_kafka.replayer.sinks import KafkaSink
from ttxt_kafka.strategies.backtest import BacktestConfig, file_events, kafka_events, run_backtest
from ttxt_kafka.strategies.examples.market_maker import MarketMaker
from ttxt_kafka.topics import TYPE_HEADER, key_for, topic_for

pytestmark = pytest.mark.kafka

SOL = "SOL/USDT"


def mm() -> MarketMaker:
    return MarketMaker(symbols=[SOL], spread_bps="2", requote_bps="2", tick="0.01", size="1")


CONFIG = BacktestConfig(balances={"*": {"USDT": Decimal(100_000), "SOL": Decimal(1000)}})


async def test_same_fills_from_recorded_files_replay_topics_and_rewound_topics(
        kafka_bootstrap: str, tmp_path: Path) -> None:
    prefix = fresh_prefix()
    events = synthetic_market(symbol=SOL, steps=4000)
    await produce(kafka_bootstrap, [
        Rec(topic_for(e, prefix), key_for(e), encode(e), e.exchange_ts,
            ((TYPE_HEADER, e.SCHEMA.encode()),)) for e in events])
    files = tmp_path / "rec"
    recorded = ttxt("record", "--out", str(files), "--bootstrap", kafka_bootstrap, "--prefix",
                    prefix, "--topics", rf"^{prefix}\.binance\.(book|trades|instruments)$",
                    "--group", f"{prefix}-rec", "--until-end")
    assert recorded.returncode == 0, recorded.stderr

    async def fills(source: object, out: str) -> str:
        report = await run_backtest(mm(), source, CONFIG, out_dir=tmp_path / out,  # type: ignore[arg-type]
                                    charts=False)
        assert report.symbols[0].rules == "recorded"
        return (tmp_path / out / "fills.csv").read_text()

    first = await fills(file_events(files), "files1")
    assert len(first.splitlines()) > 10
    assert await fills(file_events(files), "files2") == first  # twice in a row: the same

    # The files replayed into replay topics, and the backtest reading those topics.
    source = FileSource(files)
    sink = KafkaSink(kafka_bootstrap, "bt", prefix)
    await sink.start(source.source_partitions())
    await source.open()
    try:
        stats = await run_replay(source, sink)
    finally:
        await source.close()
    assert stats.records == len(events) and sink.errors == 0
    replayed = await fills(kafka_events(kafka_bootstrap, rf"^{prefix}\.replay\.bt\."), "replay")
    assert replayed == first
    # The live topics rewound to the beginning give the same again.
    live = await fills(kafka_events(kafka_bootstrap, rf"^{prefix}\.binance\."), "live")
    assert live == first

    cli = ttxt("backtest", "ttxt_kafka.strategies.examples.market_maker:MarketMaker", "--topics",
               rf"^{prefix}\.replay\.bt\.", "--symbol", SOL, "--param", "spread_bps=2",
               "--param", "requote_bps=2", "--param", "tick=0.01", "--param", "size=1",
               "--balance", "USDT=100000", "--balance", "SOL=1000", "--no-chart", "--out",
               str(tmp_path / "cli"), "--bootstrap", kafka_bootstrap)
    assert cli.returncode == 0, cli.stderr
    assert (tmp_path / "cli" / "fills.csv").read_text() == first
