"""`ttxt simulate` starts, prints its URLs, serves, and stops on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from sim_fixtures import BYBIT_CAPTURE, fixture


def _command() -> list[str]:
    """`ttxt simulate`, or the module itself if another subcommand cannot be imported yet."""
    try:
        from ttxt_kafka.cli import build_parser

        build_parser()
    except ImportError:
        return [sys.executable, "-m", "ttxt_kafka.cli.simulate_cmd"]
    script = Path(sys.executable).with_name("ttxt")
    return (
        [str(script), "simulate"]
        if script.exists()
        else [sys.executable, "-m", "ttxt_kafka.cli.simulate_cmd"]
    )


def _start(*args: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    proc = subprocess.Popen(
        [*_command(), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    urls: dict[str, str] = {}
    deadline = time.monotonic() + 20
    assert proc.stdout is not None
    while "REST" not in urls and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        word, _, rest = line.partition(" ")
        urls[word] = rest.split()[0] if rest.split() else ""
    if "REST" not in urls:
        proc.kill()
        pytest.fail(f"no URLs printed; stderr: {proc.communicate()[1]}")
    return proc, urls


def _stop(proc: subprocess.Popen[str]) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_cli_synthetic_binance() -> None:
    proc, urls = _start("--venue", "binance", "--synthetic", "--symbols", "BTCUSDT,SOLUSDT")
    try:
        assert urls["WS"].startswith("ws://127.0.0.1:")
        rest = urls["REST"]
        with urllib.request.urlopen(f"{rest}/api/v3/exchangeInfo", timeout=5) as resp:
            symbols = [s["symbol"] for s in json.load(resp)["symbols"]]
        assert symbols == ["BTCUSDT", "SOLUSDT"]
    finally:
        assert _stop(proc) == 0


def test_cli_capture_bybit() -> None:
    proc, urls = _start("--venue", "bybit_spot", "--capture", str(fixture(BYBIT_CAPTURE)))
    try:
        with urllib.request.urlopen(f"{urls['REST']}/_sim/state", timeout=5) as resp:
            state = json.load(resp)
        assert state["venue"] == "bybit_spot" and state["source"]["kind"] == "capture"
    finally:
        assert _stop(proc) == 0


def test_cli_reports_a_bad_capture() -> None:
    proc = subprocess.run(
        [*_command(), "--venue", "binance", "--capture", "/nonexistent/capture.txt"],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert proc.returncode == 1 and "ttxt: error:" in proc.stderr


# What `ttxt simulate --synthetic` names BTCUSDT (its default) on each exchange.
NATIVE_BTC = {"gateio_spot": "BTC_USDT", "coinbase_spot": "BTC-USDT", "kucoin_spot": "BTC-USDT",
              "okx_spot": "BTC-USDT", "okx_swap": "BTC-USDT-SWAP", "kraken_spot": "BTC/USDT"}


async def test_synthetic_default_symbols_are_written_as_each_venue_writes_them() -> None:
    """The default `--symbols BTCUSDT,ETHUSDT` serves every registered venue, with and without
    `--trading`: each exchange's simulator names the markets its own way (Kraken `BTC/USDT`,
    not the `BTCUSDT` no Kraken client can subscribe), and its instrument list says so."""
    import argparse

    from trading_support import credentials_for

    from ttxt_kafka import venues
    from ttxt_kafka.cli.simulate_cmd import add_arguments, build_source
    from ttxt_kafka.simulator import Simulator
    from ttxt_kafka.simulator.trading import TradingSettings

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    for venue in venues.names():
        args = parser.parse_args(["--venue", venue, "--synthetic"])
        btc = NATIVE_BTC.get(venue, "BTCUSDT")
        for trading in (None, TradingSettings(credentials_for(venue))):
            sim = Simulator(venue, build_source(args), trading=trading)
            await sim.start()
            try:
                assert list(sim.feed.markets)[0] == btc, venue  # type: ignore[attr-defined]
                body = sim.feed.instruments_body(None)
                # Kraken's AssetPairs writes v1 names (XBT): WS v2 says BTC
                assert (btc if venue != "kraken_spot" else '"XBT/USDT"') in body, venue
            finally:
                await sim.stop()
