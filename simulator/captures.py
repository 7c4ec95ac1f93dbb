"""Readers for cryptofeed capture files: the raw exchange traffic the simulator replays.

Three formats (see `../shared/fixtures/MANIFEST.md`):

* cryptofeed v1 text, one file per connection: line 1 `<url> <-> <ts>` (connect), sent frames
  `<url> <- <ts>: <json>`, received frames `<recv_ts>: <raw message exactly as received>`, HTTP
  files `<url> -> <ts>: <body>`, optionally a trailing `configuration: {...}` line;
* cryptofeed v3 JSONL: one object per line, `{"t": "header|http|connect|send|recv", "conn", "ts",
  "data", "addr"|"url"}`; the exchange payload is the `data` string, verbatim. `.jsonl.gz` is read
  too; `.zst` needs `zstandard`, which the project does not depend on (decompress it first);
* hftbacktest's raw lines: `<receive time, ns> <raw message>` per line, one connection whose URL
  the file does not say (the MEXC legacy JSON snippet).

Payloads are kept as the exact strings the exchange sent: replay must put the same bytes on the
wire, and checksum exchanges hash the strings as received.
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Direction = Literal["recv", "send"]


@dataclass(frozen=True, slots=True)
class Frame:
    """One WebSocket message of a capture."""

    ts: float  # local time the capturing client received (or sent) it, Unix seconds
    payload: str  # exactly as on the wire
    conn: str  # connection id, e.g. "BINANCE.ws.1" or "BYBIT.ws.2"
    direction: Direction


@dataclass(frozen=True, slots=True)
class Connection:
    conn: str
    url: str
    ts: float  # when it was opened


@dataclass(frozen=True, slots=True)
class HttpRecord:
    """One REST response of a capture."""

    url: str
    ts: float
    body: str  # exactly as received
    conn: str


@dataclass
class Capture:
    path: Path
    format: Literal["v1", "v3", "ns"]
    frames: list[Frame] = field(default_factory=list)  # both directions, in file order
    connections: dict[str, Connection] = field(default_factory=dict)
    http: list[HttpRecord] = field(default_factory=list)
    config: dict[str, Any] | None = None

    def received(self, conn: str | None = None) -> list[Frame]:
        """Frames the exchange sent, optionally of one connection, in capture order."""
        return [
            f for f in self.frames if f.direction == "recv" and (conn is None or f.conn == conn)
        ]


class CaptureFormatError(ValueError):
    """The file is not a capture this module can read."""


def read_capture(path: str | Path) -> Capture:
    """Read a v1 text or v3 JSONL capture, chosen by the file name."""
    p = Path(path)
    name = p.name
    if name.endswith(".zst"):
        raise CaptureFormatError(
            f"{p}: zstd-compressed captures need `zstandard`; use the plain .jsonl beside it"
        )
    if name.endswith((".jsonl", ".jsonl.gz")):
        return _read_v3(p)
    lines = _lines(p)
    if lines and _NS_LINE.match(lines[0]):
        return _read_ns(p, lines)
    return _read_v1(p)


_NS_LINE = re.compile(r"^(\d{19}) (?=[{\[])")


def _read_ns(p: Path, lines: list[str]) -> Capture:
    cap = Capture(path=p, format="ns")
    conn = f"{p.stem}.ws.1"
    for lineno, line in enumerate(lines, 1):
        if not line:
            continue
        m = _NS_LINE.match(line)
        if m is None:
            raise CaptureFormatError(f"{p}:{lineno}: not a `<ns> <message>` line")
        ts = int(m.group(1)) / 1e9
        if conn not in cap.connections:
            cap.connections[conn] = Connection(conn, "", ts)
        cap.frames.append(Frame(ts, line[m.end():], conn, "recv"))
    return cap


def _lines(p: Path) -> list[str]:
    opener = gzip.open if p.name.endswith(".gz") else open
    with opener(p, "rt", encoding="utf-8", newline="") as fh:
        text = fh.read()
    # split on "\n" only: str.splitlines() would also cut at U+2028 and friends inside payloads
    return [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]


_V1_NAME = re.compile(r"cryptofeed_(?P<feed>[A-Z0-9_]+)\.(?P<kind>ws|http)\.(?P<n>\d+)\.\d+")
_V1_RECV = re.compile(r"^(\d+(?:\.\d+)?): ")


def _v1_conn_id(p: Path) -> str:
    m = _V1_NAME.search(p.name)
    return f"{m['feed']}.{m['kind']}.{m['n']}" if m else p.stem


def _read_v1(p: Path) -> Capture:
    cap = Capture(path=p, format="v1")
    base = _v1_conn_id(p)
    conn = base
    for lineno, line in enumerate(_lines(p), 1):
        if not line:
            continue
        m = _V1_RECV.match(line)
        if m:
            cap.frames.append(Frame(float(m.group(1)), line[m.end() :], conn, "recv"))
            continue
        if line.startswith("configuration: "):
            cap.config = json.loads(line[len("configuration: ") :])
            continue
        parts = line.split(" ", 2)
        if len(parts) != 3 or parts[1] not in ("<->", "<-", "->"):
            raise CaptureFormatError(f"{p}:{lineno}: not a cryptofeed v1 capture line")
        url, arrow, rest = parts
        if arrow == "<->":
            # a second connect line in one file is a reconnect: give it its own id
            if conn in cap.connections:
                conn = f"{base}#{len(cap.connections) + 1}"
            cap.connections[conn] = Connection(conn, url, float(rest))
            continue
        ts, sep, payload = rest.partition(": ")
        if not sep:
            raise CaptureFormatError(f"{p}:{lineno}: missing ': ' after the timestamp")
        if arrow == "<-":
            cap.frames.append(Frame(float(ts), payload, conn, "send"))
        else:
            cap.http.append(HttpRecord(url, float(ts), payload, conn))
    return cap


def _read_v3(p: Path) -> Capture:
    cap = Capture(path=p, format="v3")
    for lineno, line in enumerate(_lines(p), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            kind = rec["t"]
        except (ValueError, KeyError, TypeError) as exc:
            raise CaptureFormatError(f"{p}:{lineno}: not a cryptofeed v3 record ({exc})") from None
        if kind == "header":
            cap.config = rec.get("config")
        elif kind == "connect":
            cap.connections[rec["conn"]] = Connection(rec["conn"], rec["addr"], float(rec["ts"]))
        elif kind in ("recv", "send"):
            cap.frames.append(Frame(float(rec["ts"]), rec["data"], rec["conn"], kind))
        elif kind == "http":
            cap.http.append(HttpRecord(rec["url"], float(rec["ts"]), rec["data"], rec["conn"]))
    return cap
