"""End-to-end latency: a book update leaves the simulator -> connector -> Kafka -> strategy handler.

Not a timed test: ``make bench`` (alone: ``.bench-venv/bin/python benchmarks/run_all.py
latency``). On one host, every process on the same wall clock:

* this process runs the simulator: a synthetic Binance spot BTC/USDT paced at RATE book updates
  a second (1,000 and 10,000), and notes the wall time (ns) just before each depth update is
  written to the WebSocket, with its update id `u`;
* ours: ``ttxt connect`` (book stream only, into Kafka) and ``ttxt strategy run`` of
  ``benchmarks/latency_probe.py:LatencyProbe``, which notes when each update reaches its
  ``on_orderbook`` (after the runtime decoded it and applied it to its book), with its sequence;
  twice: with the default settings (the book unbatched: linger per channel) and with the book
  batched for 5 ms (``kafka.linger_ms: {book: 5}``, the default before lingers per channel);
* cryptofeed (2.4.1, when installed — ``.bench-venv``): its Binance feed against the same
  simulator, L2_BOOK through its Kafka backend, and a plain aiokafka consumer noting when each
  record is decoded, with its ``sequence_number`` (``benchmarks/peers/cryptofeed_latency.py``).

Latency of an update = handler time - send time, joined on the update id, for the updates sent
during the measuring window (after a warm-up). The exchange timestamp field is not used: it is in
milliseconds (a 0-1 ms error on a figure of a few ms); the send notes are exact to the µs.
Each row measures ``BENCH_LATENCY_WINDOWS`` consecutive windows (default 3) and reports the
median of their p50s and p99s, with each window's p99: one window's p99 at 10,000/s moved from
10 to 29 ms between runs on this machine, so a single window says little.
Knobs: ``BENCH_LATENCY_WARMUP`` (s, default 5), ``BENCH_LATENCY_SECONDS`` (each measured window,
default 10), ``BENCH_LATENCY_WINDOWS`` (default 3), ``BENCH_LATENCY_RATES`` (default
``1000,10000``).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = sys.executable


@dataclass
class SendLog:
    """(wall ns, frame) of every depth update the simulator writes to a socket."""

    frames: list[tuple[int, str]] = field(default_factory=list)
    window: tuple[int, int] = (0, 0)  # wall ns: the measured part of the run
    cuts: list[int] = field(default_factory=list)  # wall ns: where each measured window starts
    _original: Any = None

    def install(self) -> None:
        from ttxt_kafka.simulator import session

        log = self.frames
        original = session.Session.__init__

        def init(s: Any, *args: Any, **kw: Any) -> None:
            original(s, *args, **kw)
            send = s.ws.send_str

            async def stamped(text: str, *a: Any, **k: Any) -> None:
                t = time.time_ns()
                await send(text, *a, **k)
                if '"depthUpdate"' in text[:80]:
                    log.append((t, text))

            s.ws.send_str = stamped

        self._original = original
        session.Session.__init__ = init  # type: ignore[method-assign]

    def uninstall(self) -> None:
        from ttxt_kafka.simulator import session

        session.Session.__init__ = self._original  # type: ignore[method-assign]

    def sent(self, since_ns: int, until_ns: int) -> dict[int, int]:
        """update id -> send time, for updates sent in [since, until)."""
        out = {}
        for t, text in self.frames:
            if since_ns <= t < until_ns:
                data = json.loads(text)
                out[int(data.get("data", data)["u"])] = t
        return out


@dataclass
class Run:
    library: str
    rate: int
    sent: int = 0
    handled: int = 0
    by_window: list[list[float]] = field(default_factory=list)  # latencies (ms), window by window
    to_connector_ms: list[float] = field(default_factory=list)  # send -> connector receive
    # Updates that reached the handler during the window, whenever sent: their rate, and how
    # long they had waited (a library that falls behind handles old updates).
    window_handled: int = 0
    window_waited_ms: list[float] = field(default_factory=list)
    window_s: float = 0.0
    load: tuple[float, float] = (0.0, 0.0)  # 1-minute load average before, after

    def pct(self, values: list[float], p: float) -> float:
        if not values:
            return float("nan")
        values = sorted(values)
        return values[min(len(values) - 1, int(p / 100 * len(values)))]

    @property
    def latencies_ms(self) -> list[float]:
        """Every window's latencies together."""
        return [v for w in self.by_window for v in w]

    def windows_pct(self, p: float) -> list[float]:
        return [self.pct(w, p) for w in self.by_window if w]

    def median_pct(self, p: float) -> float:
        """The median over the windows of each window's percentile `p`."""
        each = self.windows_pct(p)
        return statistics.median(each) if each else float("nan")


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)}


def _stop(*procs: subprocess.Popen[bytes]) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(60)
        except subprocess.TimeoutExpired:
            p.kill()


async def _run_ours(bootstrap: str, rate: int, warmup: float, seconds: float, tmp: Path,
                    book_linger_ms: int | None = None, windows: int = 1) -> Run:
    """`book_linger_ms`: the connector's linger for the book channel (None: the default, 0)."""
    from ttxt_kafka.simulator import Simulator, SyntheticSource

    log = SendLog()
    log.install()
    sim = await Simulator("binance", SyntheticSource(seed=1, symbols=["BTCUSDT"], rate=rate,
                                                     levels=50)).start()
    prefix = f"lat{uuid.uuid4().hex[:6]}"
    out = tmp / f"ours_{rate}.json"
    config = tmp / f"connect_{rate}.yaml"
    lingers = "{}" if book_linger_ms is None else f"{{book: {book_linger_ms}}}"
    config.write_text(
        f"topic_prefix: {prefix}\nkafka: {{bootstrap_servers: '{bootstrap}', linger_ms: {lingers}}}"
        "\nconnectors:\n"
        f"  - venue: binance\n    symbols: [BTC/USDT]\n    streams: {{book: true}}\n"
        f"    endpoints: {{ws: '{sim.ws_url}', rest: '{sim.rest_url}'}}\n")
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    strategy = subprocess.Popen(
        [PY, "-m", "ttxt_kafka.cli", "strategy", "run",
         str(HERE / "latency_probe.py") + ":LatencyProbe", "--symbol", "BTC/USDT",
         "--prefix", prefix, "--group", f"{prefix}-probe", "--bootstrap", bootstrap,
         "--param", f"out={out}"], env=_env(), **quiet)
    await asyncio.sleep(2.0)  # its group joins before the first update
    connector = subprocess.Popen([PY, "-m", "ttxt_kafka.cli", "connect", str(config),
                                  "--stats-interval", "0"], env=_env(), **quiet)
    name = "ours" if book_linger_ms is None else f"ours, book linger_ms={book_linger_ms}"
    run = await _measure(name, rate, warmup, seconds, log, [connector, strategy], windows)
    await sim.stop()
    log.uninstall()
    rows = json.loads(out.read_text()) if out.exists() else []
    _join(run, log, [(t, seq) for t, seq, _ in rows],
          {seq: recv for _, seq, recv in rows})
    return run


async def _run_cryptofeed(bootstrap: str, rate: int, warmup: float, seconds: float,
                          tmp: Path, windows: int = 1) -> Run | None:
    try:
        import cryptofeed  # noqa: F401
    except ImportError:
        return None
    from ttxt_kafka.simulator import Simulator, SyntheticSource

    log = SendLog()
    log.install()
    sim = await Simulator("binance", SyntheticSource(seed=1, symbols=["BTCUSDT"], rate=rate,
                                                     levels=50)).start()
    key = f"cflat{uuid.uuid4().hex[:6]}"
    out = tmp / f"cryptofeed_{rate}.json"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    # (run in the temporary folder: cryptofeed writes its feedhandler.log where it runs)
    peer = [PY, "-m", "benchmarks.peers.cryptofeed_latency"]
    consumer = subprocess.Popen([*peer, "consume", bootstrap, key, str(out)], env=_env(),
                                cwd=tmp, **quiet)
    await asyncio.sleep(2.0)
    feed = subprocess.Popen([*peer, "feed", sim.ws_url, sim.rest_url, bootstrap, key],
                            env=_env(), cwd=tmp, **quiet)
    run = await _measure("cryptofeed", rate, warmup, seconds, log, [feed, consumer], windows)
    await sim.stop()
    log.uninstall()
    rows = json.loads(out.read_text()) if out.exists() else []
    _join(run, log, [(t, seq) for t, seq in rows], {})
    return run


async def _measure(library: str, rate: int, warmup: float, seconds: float, log: SendLog,
                   procs: list[subprocess.Popen[bytes]], windows: int = 1) -> Run:
    run = Run(library, rate)
    run.load = (os.getloadavg()[0], 0.0)
    await asyncio.sleep(warmup)
    start = time.time_ns()
    log.cuts = []
    for _ in range(windows):
        log.cuts.append(time.time_ns())
        await asyncio.sleep(seconds)
    log.window = (start, time.time_ns())
    await asyncio.sleep(min(5.0, 1.0 + seconds / 2))  # the last updates of the window land
    run.load = (run.load[0], os.getloadavg()[0])
    await asyncio.get_running_loop().run_in_executor(None, _stop, *procs)
    return run


def _join(run: Run, log: SendLog, handled: list[tuple[int, int]],
          received_us: dict[int, int]) -> None:
    since, until = log.window
    every = log.sent(0, 2**63)
    sent = {u: t for u, t in every.items() if since <= t < until}
    run.sent = len(sent)
    run.window_s = (until - since) / 1e9
    for t, seq in handled:
        if since <= t < until and seq in every:
            run.window_handled += 1
            run.window_waited_ms.append((t - every[seq]) / 1e6)
    seen = set()
    cuts = [*(log.cuts or [since])[1:], until]
    run.by_window = [[] for _ in cuts]
    for t, seq in handled:
        if seq in sent and seq not in seen:
            seen.add(seq)
            run.by_window[bisect.bisect_right(cuts, sent[seq])].append((t - sent[seq]) / 1e6)
            if seq in received_us:
                run.to_connector_ms.append((received_us[seq] * 1000 - sent[seq]) / 1e6)
    run.handled = len(seen)


def _row(r: Run) -> str:
    lat, pre = r.latencies_ms, r.to_connector_ms
    part = (f"{r.pct(pre, 50):.2f} / {r.pct(pre, 99):.2f}" if pre else "-")
    each = " / ".join(f"{v:.2f}" for v in r.windows_pct(99)) or "-"
    return (f"| {r.library} | {r.rate:,} | {r.handled:,} / {r.sent:,} | "
            f"{r.median_pct(50):.2f} | {r.median_pct(99):.2f} | {each} | "
            f"{max(lat) if lat else float('nan'):.1f} | {part} | "
            f"{r.load[0]:.1f} -> {r.load[1]:.1f} |")


def main() -> None:
    from benchmarks.common import RESULTS_DIR, int_from_env
    from ttxt_kafka.testing import kafka_bootstrap_for_tests, stop

    warmup = float(os.environ.get("BENCH_LATENCY_WARMUP", "5"))
    seconds = float(os.environ.get("BENCH_LATENCY_SECONDS", "10"))
    rates = [int(r) for r in os.environ.get("BENCH_LATENCY_RATES", "1000,10000").split(",")]
    windows = int_from_env("BENCH_LATENCY_WINDOWS", 3)
    print("\n## End-to-end latency: simulator send -> connector -> Kafka -> strategy handler\n")
    print(f"One symbol (binance BTC/USDT), book updates only, {warmup:g} s warm-up then "
          f"{windows} windows of {seconds:g} s measured per row (p50, p99: the median of the "
          f"windows'); {os.cpu_count()} CPUs, broker on the same host.\n")
    bootstrap = kafka_bootstrap_for_tests()
    runs: list[Run] = []
    loop = asyncio.new_event_loop()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for rate in rates:
                runs.append(loop.run_until_complete(
                    _run_ours(bootstrap, rate, warmup, seconds, Path(tmp), windows=windows)))
                runs.append(loop.run_until_complete(
                    _run_ours(bootstrap, rate, warmup, seconds, Path(tmp), book_linger_ms=5,
                              windows=windows)))
                peer = loop.run_until_complete(
                    _run_cryptofeed(bootstrap, rate, warmup, seconds, Path(tmp), windows))
                if peer is not None:
                    runs.append(peer)
    finally:
        loop.close()
        stop()
    print("| library | updates/s | handled / sent | p50 ms | p99 ms | p99 by window, ms | max ms | "
          "send -> connector p50 / p99 ms | load avg (1 min) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in runs:
        print(_row(r))
    for r in runs:
        if r.sent and r.handled < 0.99 * r.sent:
            w, rate = r.window_waited_ms, r.window_handled / r.window_s
            print(f"\n{r.library} at {r.rate:,}/s fell behind: {rate:,.0f} "
                  f"updates/s reached the handler during the window, having waited p50 "
                  f"{r.pct(w, 50) / 1000:.1f} s, p99 {r.pct(w, 99) / 1000:.1f} s"
                  if w else f"\n{r.library} at {r.rate:,}/s: nothing reached the handler during "
                  "the window")
    if not any(r.library == "cryptofeed" for r in runs):
        print("\n(cryptofeed not installed here: run in .bench-venv, `make bench-env`)")
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / "latency.json").write_text(json.dumps([{
        "library": r.library, "rate": r.rate, "sent": r.sent, "handled": r.handled,
        "p50_ms": r.median_pct(50), "p99_ms": r.median_pct(99),
        "p50_by_window_ms": r.windows_pct(50), "p99_by_window_ms": r.windows_pct(99),
        "p99_all_windows_ms": r.pct(r.latencies_ms, 99),
        "max_ms": max(r.latencies_ms, default=None),
        "to_connector_p50_ms": r.pct(r.to_connector_ms, 50) if r.to_connector_ms else None,
        "window_handled_per_s": r.window_handled / r.window_s if r.window_s else None,
        "window_waited_p50_ms": r.pct(r.window_waited_ms, 50) if r.window_waited_ms else None,
        "load_avg": r.load} for r in runs], indent=1))


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
