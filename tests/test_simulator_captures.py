"""Capture readers: both cryptofeed formats, payloads kept byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sim_fixtures import (
    BINANCE_SPOT_DEPTH,
    BINANCE_SPOT_INFO,
    BINANCE_SPOT_WS,
    BINANCE_USDM_WS,
    BYBIT_CAPTURE,
    fixture,
)

from ttxt_kafka.simulator.captures import CaptureFormatError, read_capture


def test_v1_ws_capture_frames_and_connection() -> None:
    cap = read_capture(fixture(BINANCE_SPOT_WS))
    assert cap.format == "v1"
    assert list(cap.connections) == ["BINANCE.ws.1"]
    conn = cap.connections["BINANCE.ws.1"]
    assert conn.url.startswith("wss://stream.binance.com:9443/stream?streams=nknusdt@depth@100ms/")
    assert conn.ts == pytest.approx(1633998511.159679)
    frames = cap.received()
    assert len(frames) == 265
    assert frames[0].ts == pytest.approx(1633998512.0633569)
    assert frames[0].payload.startswith('{"stream":"nknusdt@depth@100ms","data":{"e":"depthUpdate"')
    assert all(f.direction == "recv" and f.conn == "BINANCE.ws.1" for f in frames)
    assert [f.ts for f in frames] == sorted(f.ts for f in frames)


def test_v1_payloads_are_byte_exact() -> None:
    """The corpus' extract files are byte-exact copies of payloads: each must be a frame."""
    payloads = [f.payload for f in read_capture(fixture(BINANCE_SPOT_WS)).received()]
    for name in ("depthUpdate", "bookTicker", "kline", "aggTrade"):
        extract = fixture(f"binance/live_extract_spot_ws_{name}.jsonl").read_text().splitlines()
        assert extract and all(line in payloads for line in extract), name
    usdm = [f.payload for f in read_capture(fixture(BINANCE_USDM_WS)).received()]
    extract = fixture("binance/live_extract_usdm_ws_depthUpdate.jsonl").read_text().splitlines()
    assert all(line in usdm for line in extract)


def test_v1_http_capture_holds_the_depth_snapshots() -> None:
    cap = read_capture(fixture(BINANCE_SPOT_DEPTH))
    assert cap.frames == []
    urls = [r.url for r in cap.http]
    assert urls == [
        f"https://api.binance.com/api/v3/depth?symbol={s}&limit=1000"
        for s in ("NKNUSDT", "BLZETH", "LRCBTC", "RUNEEUR")
    ]
    assert json.loads(cap.http[0].body)["lastUpdateId"] == 499869752


def test_v1_configuration_line() -> None:
    cap = read_capture(fixture(BINANCE_SPOT_INFO))
    assert cap.config is not None and "l2_book" in cap.config
    assert len(cap.http) == 1 and cap.http[0].url.endswith("/api/v3/exchangeInfo")


def test_v3_jsonl_capture() -> None:
    cap = read_capture(fixture(BYBIT_CAPTURE))
    assert cap.format == "v3"
    assert cap.config is not None and "l2_book" in cap.config
    assert {c: i.url for c, i in cap.connections.items()} == {
        "BYBIT.ws.2": "wss://stream.bybit.com/v5/public/linear",
        "BYBIT.ws.3": "wss://stream.bybit.com/v5/public/spot",
    }
    assert [r.url.split("category=")[1].split("&")[0] for r in cap.http] == ["linear", "spot"]
    sent = [f for f in cap.frames if f.direction == "send"]
    assert len(sent) == 17 + 7
    assert len(cap.received("BYBIT.ws.2")) == 2546
    assert len(cap.received("BYBIT.ws.3")) == 681
    extract = fixture("bybit/live_extract_v5_ws_orderbook_delta.jsonl").read_text().splitlines()
    payloads = {f.payload for f in cap.received()}
    assert all(line in payloads for line in extract)


def test_zst_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl.zst"
    path.write_bytes(b"\x28\xb5\x2f\xfd")
    with pytest.raises(CaptureFormatError, match="zstandard"):
        read_capture(path)


def test_garbage_is_not_a_capture(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_text("hello world\n")
    with pytest.raises(CaptureFormatError):
        read_capture(path)
