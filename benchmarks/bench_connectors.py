"""Connector benchmarks, side by side with cryptofeed, on the real captures (``make bench``).

1. Normalization: raw frame -> normalized event, per venue, book and trade streams, the same
   frames for everyone (the captures made longer with gap-free ids, see
   ``ours_connector_data``). Three rows:
   * ours, normalizer: ``normalizer(raw, receive_ts)`` -> events (pure function);
   * ours, connector path: the running connector's per-frame work (normalize, book sync, the
     connector's own ``Book``, publish) minus the socket and Kafka;
   * cryptofeed: ``feed.message_handler(raw, conn, ts)`` with no-op callbacks (it parses with
     yapic + Decimal, checks sequences and applies its book: the peer of our connector path).
   The final books of ours and cryptofeed are checked equal before timing.
2. Into Kafka (Binance USD-M, the capture with all four stream types): our connector reading the
   simulator's replay over WebSocket at full speed into a real broker, until the last record is
   acknowledged, against cryptofeed's Kafka backend (Book/Trade/Ticker/Candles Kafka callbacks,
   its own producers) fed the same frames through ``message_handler`` (no socket: that only
   helps it), until its writers have drained and flushed.

Knobs: ``BENCH_ROUNDS`` (5), ``BENCH_MESSAGES`` frames per normalization case (20000),
``BENCH_KAFKA_MESSAGES`` (15000), ``BENCH_KAFKA_ROUNDS`` (3); ``BENCH_VENUES`` (comma-separated,
default all) picks the normalization venues, ``BENCH_KAFKA=0`` skips part 2. Needs the fixtures
(``TTXT_FIXTURES`` or ``../shared/fixtures``) and, for part 2, Java (a local broker is started)
or ``KAFKA_BOOTSTRAP_SERVERS``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from benchmarks.common import (
    Case,
    Report,
    Result,
    int_from_env,
    measure_all,
    print_report,
    rounds_from_env,
    write_json,
)
from benchmarks.ours_connector_data import (
    MissingFixtures,
    VenueCapture,
    kraken_v2,
    load,
    obu,
    okx_today,
    repeat,
    v2,
    write_capture,
)
from benchmarks.ours_connectors import (
    normalize_all,
    prepare_offline,
    read_offline,
    run_into_kafka,
    symbols_of,
)

VENUES = ("binance", "binance_usdm", "bybit_spot", "bybit_linear", "bitget_spot", "bitget_usdtm",
          "gateio_spot", "kucoin_spot",
          "coinbase_spot", "kraken_spot", "okx_spot", "okx_swap")
STREAMS = ("book", "trades")
KAFKA_VENUE = "binance_usdm"

LOOP = asyncio.new_event_loop()


# ------------------------------------------------------------------------- cryptofeed


def _cryptofeed_feed(cap: VenueCapture, channels: list[str], callbacks: dict[str, Any]) -> Any:
    """A cryptofeed feed for the venue, symbols from the captured instrument list, REST
    snapshots answered from the capture (PEERS.md, recipe (a))."""
    from cryptofeed.exchanges import (
        OKX,
        Binance,
        BinanceFutures,
        Bitget,
        Bybit,
        Coinbase,
        Gateio,
        Kraken,
    )
    from cryptofeed.symbols import Symbols

    if cap.kucoin:
        return _cryptofeed_kucoin(cap, channels, callbacks)
    if cap.coinbase:  # cryptofeed 2.4.1 speaks Advanced Trade: the frames as captured
        Symbols.set(Coinbase.id, *Coinbase._parse_symbol_data(cap.info))
        to_std = {v: k for k, v in Symbols.get(Coinbase.id)[0].items()}
        return Coinbase(symbols=[to_std[n] for n in symbols_of(cap)], channels=channels,
                        callbacks=callbacks)
    if cap.okx:  # both instrument lists, as cryptofeed loads them; its checksum check on
        Symbols.set(OKX.id, *OKX._parse_symbol_data(cap.peer_info))
        to_std = {v: k for k, v in Symbols.get(OKX.id)[0].items()}
        return OKX(symbols=[to_std[n] for n in symbols_of(cap)], channels=channels,
                   callbacks=callbacks, checksum_validation=True)

    cls = {"binance": Binance, "binance_usdm": BinanceFutures, "bitget_spot": Bitget,
           "bitget_usdtm": Bitget, "gateio_spot": Gateio, "kraken_spot": Kraken}.get(cap.venue,
                                                                                 Bybit)
    if cls is Kraken:  # the v1 AssetPairs as cryptofeed loads it; v1 pair names (XBT)
        Symbols.set(cls.id, *cls._parse_symbol_data(cap.peer_info))
        to_std = {v: k for k, v in Symbols.get(cls.id)[0].items()}
        v1 = {"BTC": "XBT"}
        std = [to_std["/".join(v1.get(a, a) for a in n.split("/"))] for n in symbols_of(cap)]
        # checksum_validation: cryptofeed checks Kraken's CRC32 too, as our connector path does
        return cls(symbols=std, channels=channels, callbacks=callbacks, checksum_validation=True)
    if cls is Bitget:  # the v1 products and contracts, as cryptofeed loads them
        Symbols.set(cls.id, *cls._parse_symbol_data(cap.peer_info))
        to_std = {v: k for k, v in Symbols.get(cls.id)[0].items()}
        suffix = "" if cap.venue == "bitget_spot" else "_UMCBL"
        std = [to_std[n + suffix] for n in symbols_of(cap)]
        # checksum_validation: cryptofeed checks Bitget's CRC32 too, as our connector path does
        return cls(symbols=std, channels=channels, callbacks=callbacks, checksum_validation=True)
    if cls is Bybit:
        infos = [load("bybit_spot").info, load("bybit_linear").info]
        Symbols.set(cls.id, *cls._parse_symbol_data(infos))
    else:
        Symbols.set(cls.id, *cls._parse_symbol_data(cap.info))
    to_std = {v: k for k, v in Symbols.get(cls.id)[0].items()}
    natives = symbols_of(cap)
    if cap.venue == "bybit_spot":
        std = [to_std[f"{n[:-4]}/{n[-4:]}"] for n in natives]  # cryptofeed names spot BTC/USDT
    else:
        std = [to_std[n] for n in natives]
    feed = cls(symbols=std, channels=channels, callbacks=callbacks)
    if cls is Gateio:
        feed._reset()  # its book state is made in subscribe(), which no socket calls here

    async def read(url: str, **_: Any) -> str:
        return cap.snapshots[re.search(r"(?:symbol|currency_pair)=(\w+)",  # type: ignore[union-attr]
                                       url).group(1)]

    feed.http_conn.read = read
    return feed


def _cryptofeed_kucoin(cap: VenueCapture, channels: list[str], callbacks: dict[str, Any]) -> Any:
    """cryptofeed's KuCoin feed: its bullet-public POST (made in `__init__`) answered locally,
    placeholder keys (it signs its v3 book requests), snapshots answered from the capture."""
    from cryptofeed.exchanges import KuCoin
    from cryptofeed.symbols import Symbols

    Symbols.set(KuCoin.id, *KuCoin._parse_symbol_data(cap.info))
    to_std = {v: k for k, v in Symbols.get(KuCoin.id)[0].items()}
    std = [to_std[n] for n in symbols_of(cap)]
    bullet = {"data": {"token": "t", "instanceServers": [
        {"endpoint": cap.url.split("?")[0], "pingInterval": 18000, "pingTimeout": 10000}]}}
    write, KuCoin.http_sync.write = KuCoin.http_sync.write, lambda *a, **k: bullet
    try:
        keys = {"key_id": "k", "key_secret": "s", "key_passphrase": "p"}
        feed = KuCoin(symbols=std, channels=channels, callbacks=callbacks,
                      config={"kucoin": keys})
    finally:
        KuCoin.http_sync.write = write

    async def read(url: str, **_: Any) -> str:
        return cap.snapshots[re.search(r"symbol=([\w-]+)", url).group(1)]  # type: ignore[union-attr]

    feed.http_conn.read = read
    return feed


def _cryptofeed_setup(cap: VenueCapture) -> tuple[Any, Any]:
    from cryptofeed.defines import L2_BOOK, TRADES

    async def noop(obj: Any, receipt: float) -> None:
        pass

    feed = _cryptofeed_feed(cap, [L2_BOOK, TRADES], {L2_BOOK: noop, TRADES: noop})
    return feed, SimpleNamespace(address=cap.url, uuid="bench")


async def _cryptofeed_drive(feed: Any, conn: Any, frames: list[str]) -> None:
    handler = feed.message_handler
    ts = time.time()
    for raw in frames:
        await handler(raw, conn, ts)


def _cryptofeed_books(feed: Any) -> dict[str, tuple[dict[Decimal, Decimal], ...]]:
    return {k.replace("-PERP", "").replace("-", "/"): (b.book.bids.to_dict(), b.book.asks.to_dict())
            for k, b in feed._l2_book.items()}


# ------------------------------------------------------------------------- normalization


def _ours(cap: VenueCapture, frames: list[str]) -> list[str]:
    """The frames as our connector reads them (Bitget: v2 framing; cryptofeed reads v1;
    Gate.io: spot.obu framing; cryptofeed reads spot.order_book_update over REST snapshots;
    OKX: the seqId chain added; Kraken: v2 framing, cryptofeed reads v1)."""
    if cap.gate:
        return obu(cap, frames)
    if cap.kraken:
        return kraken_v2(cap, frames)
    if cap.okx:
        return okx_today(frames)
    return v2(cap, frames) if cap.bitget else frames


def _check_same_books(cap: VenueCapture, frames: list[str]) -> None:
    """Ours and cryptofeed end with the same books (as Decimals) on these frames."""
    c = LOOP.run_until_complete(prepare_offline(cap))
    LOOP.run_until_complete(read_offline(c, _ours(cap, frames)))
    feed, conn = _cryptofeed_setup(cap)
    LOOP.run_until_complete(_cryptofeed_drive(feed, conn, frames))
    theirs = _cryptofeed_books(feed)
    if cap.kucoin:  # cryptofeed keys KuCoin books by the topic's native symbol
        theirs = {c.symbols.normalized(k.replace("/", "-")): v for k, v in theirs.items()}
    assert c.stats.gaps == c.stats.malformed == c.stats.checksum_mismatches == 0, c.stats
    for symbol, book in c.books.items():
        bids, asks = theirs[symbol]
        assert {Decimal(p): Decimal(q) for p, q in book.bids()} == bids, symbol
        if cap.coinbase:  # cryptofeed 2.4.1 reads a snapshot's asks as side "ask"; Coinbase
            continue  # says "offer", so its asks hold only the levels updates touched
        assert {Decimal(p): Decimal(q) for p, q in book.asks()} == asks, symbol


def _cases(cap: VenueCapture, frames: list[str]) -> list[Case[Any]]:
    normalizer = LOOP.run_until_complete(prepare_offline(cap)).normalizer
    ours = _ours(cap, frames)
    return [
        Case("ours, normalizer", "µs/frame", lambda s: normalize_all(*s),
             lambda: (normalizer, ours), len(ours)),
        Case("ours, connector path", "µs/frame",
             lambda c: LOOP.run_until_complete(read_offline(c, ours)),
             lambda: LOOP.run_until_complete(prepare_offline(cap)), len(ours)),
        Case("cryptofeed", "µs/frame",
             lambda s: LOOP.run_until_complete(_cryptofeed_drive(*s, frames)),
             lambda: _cryptofeed_setup(cap), len(frames)),
    ]


def _selected_venues() -> tuple[str, ...]:
    chosen = [v.strip() for v in os.environ.get("BENCH_VENUES", "").split(",") if v.strip()]
    unknown = sorted(set(chosen) - set(VENUES))
    if unknown:
        raise SystemExit(f"BENCH_VENUES: unknown {unknown}; choose from {', '.join(VENUES)}")
    return tuple(chosen) or VENUES


def normalization(n_messages: int) -> list[Report]:
    """Every venue, or those named in `BENCH_VENUES` (comma-separated)."""
    reports = []
    for venue in _selected_venues():
        cap = load(venue)
        for stream in STREAMS:
            frames = repeat(cap, cap.stream(stream), n_messages)
            if stream == "book":
                _check_same_books(cap, frames)
            report = Report(f"connectors_{venue}_{stream}", baseline="cryptofeed",
                            params={"frames": len(frames), "distinct": len(cap.stream(stream))})
            report.results = measure_all(_cases(cap, frames))
            reports.append(report)
            print_report(report, f"{venue} {stream}: raw frame -> normalized event")
            write_json(report)
    return reports


def summary(reports: list[Report]) -> None:
    print("\n## Summary: normalization speedup over cryptofeed (median µs/frame)\n")
    print("| venue | stream | ours normalizer | ours connector path | cryptofeed | speedup "
          "(normalizer) | speedup (connector path) |\n|---|---|---:|---:|---:|---:|---:|")
    for rep in reports:
        by = {r.name: r.median for r in rep.results}
        cf = by["cryptofeed"]
        venue, stream = rep.bench.removeprefix("connectors_").rsplit("_", 1)
        print(f"| {venue} | {stream} | {by['ours, normalizer']:.2f} | "
              f"{by['ours, connector path']:.2f} | {cf:.2f} | "
              f"{cf / by['ours, normalizer']:.1f}× | {cf / by['ours, connector path']:.1f}× |")


# ------------------------------------------------------------------------- into Kafka


def _simulator(capture: Path, venue: str) -> tuple[subprocess.Popen[str], str, str]:
    proc = subprocess.Popen([sys.executable, "-m", "ttxt_kafka.cli", "simulate", "--venue", venue,
                             "--capture", str(capture)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    urls: dict[str, str] = {}
    assert proc.stdout is not None
    while "REST" not in urls:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("ttxt simulate exited before printing its URLs")
        word, _, rest = line.partition(" ")
        urls[word] = rest.split()[0] if rest.split() else ""
    return proc, urls["WS"], urls["REST"]


async def _cryptofeed_into_kafka(cap: VenueCapture, frames: list[str], bootstrap: str
                                 ) -> dict[str, float]:
    from cryptofeed.backends.kafka import BookKafka, CandlesKafka, TickerKafka, TradeKafka
    from cryptofeed.defines import CANDLES, L2_BOOK, TICKER, TRADES

    from ttxt_kafka.admin import list_topics, record_counts

    tag = f"cf{uuid.uuid4().hex[:6]}"
    # Our producer's durability settings; not linger_ms=5, which costs its one-awaited-send-
    # per-record writer 5 ms a record (PEERS.md).
    opts: dict[str, Any] = {"bootstrap_servers": bootstrap, "acks": "all",
                            "enable_idempotence": True, "numeric_type": str}
    callbacks = {L2_BOOK: BookKafka(key=f"{tag}book", **opts),
                 TRADES: TradeKafka(key=f"{tag}trades", **opts),
                 TICKER: TickerKafka(key=f"{tag}ticker", **opts),
                 CANDLES: CandlesKafka(key=f"{tag}candles", **opts)}
    feed = _cryptofeed_feed(cap, list(callbacks), callbacks)
    loop = asyncio.get_running_loop()
    for cb in callbacks.values():
        cb.start(loop)
    while not all(cb.running for cb in callbacks.values()):  # producers connected
        await asyncio.sleep(0.01)
    t0 = time.perf_counter()
    await _cryptofeed_drive(feed, None, frames)
    for cb in callbacks.values():  # drained (stop() would drop what is still queued)
        while cb.queue.qsize():
            await asyncio.sleep(0.002)
    for cb in callbacks.values():
        await cb.stop()
        await cb.worker  # its producer stopped: everything flushed
    elapsed = time.perf_counter() - t0
    counts = await record_counts(bootstrap, await list_topics(bootstrap, f"^{tag}"))
    return {"seconds": elapsed, "frames": len(frames), "records": sum(counts.values())}


def into_kafka(n_messages: int, rounds: int) -> Report:
    from ttxt_kafka.testing import kafka_bootstrap_for_tests, stop

    cap = load(KAFKA_VENUE)
    frames = repeat(cap, cap.frames, n_messages)
    depth_frames = sum(1 for f in frames if "@depth" in f[:40])
    report = Report("connectors_into_kafka", baseline="cryptofeed Kafka backend",
                    params={"venue": KAFKA_VENUE, "frames": len(frames), "rounds": rounds})
    bootstrap = kafka_bootstrap_for_tests()
    ours: list[dict[str, float]] = []
    theirs: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        sim, ws, rest = _simulator(write_capture(cap, frames, Path(tmp)), KAFKA_VENUE)
        try:
            for _ in range(rounds):  # interleaved, as the other benches
                ours.append(LOOP.run_until_complete(
                    run_into_kafka(cap, ws, rest, bootstrap, len(frames))))
                theirs.append(LOOP.run_until_complete(
                    _cryptofeed_into_kafka(cap, frames, bootstrap)))
        finally:
            sim.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                sim.wait(10)
            stop()
    rows = [
        ("ours, steady state (books synced)",
         [r["steady_frames"] / r["steady_seconds"] for r in ours],
         f"{statistics.median(r['steady_events'] for r in ours):,.0f} events"),
        ("ours, whole run from the first frame", [r["frames"] / r["seconds"] for r in ours],
         f"{ours[-1]['records']:,.0f} records; {ours[-1]['book_deltas']:,.0f} of "
         f"{depth_frames:,} depth frames as deltas, the rest in the first snapshot"),
        ("cryptofeed Kafka backend", [r["frames"] / r["seconds"] for r in theirs],
         f"{theirs[-1]['records']:,.0f} records"),
    ]
    for name, rates, note in rows:
        report.results.append(Result(name, "frames/s into Kafka", "frames/s",
                                     statistics.median(rates), rates, note))
    base = report.results[-1].median
    print(f"\n## {KAFKA_VENUE}: raw frame -> bytes on Kafka (acknowledged)\n")
    print(f"{len(frames)} frames per run, {rounds} rounds; speedup = median rate / cryptofeed's\n")
    print("| library | frames/s (median) | rounds | speedup | notes |\n|---|---:|---|---:|---|")
    for r in report.results:
        samples = ", ".join(f"{x:,.0f}" for x in r.samples)
        print(f"| {r.name} | {r.median:,.0f} | {samples} | {r.median / base:.1f}× | {r.note} |")
    write_json(report)
    return report


def main() -> None:
    logging.getLogger("feedhandler").setLevel(logging.CRITICAL)  # cryptofeed's chatter
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    try:
        import cryptofeed  # noqa: F401
    except ImportError:
        print("connector benchmarks not run: cryptofeed is not installed (`make bench-env`)")
        return
    try:
        reports = normalization(int_from_env("BENCH_MESSAGES", 20_000))
        summary(reports)
        if os.environ.get("BENCH_KAFKA", "1") != "0":
            into_kafka(int_from_env("BENCH_KAFKA_MESSAGES", 15_000),
                       int_from_env("BENCH_KAFKA_ROUNDS", 3))
    except MissingFixtures as exc:
        print(f"connector benchmarks not run: {exc}")
    print(f"\n(normalization rounds: {rounds_from_env()})")


if __name__ == "__main__":
    main()
