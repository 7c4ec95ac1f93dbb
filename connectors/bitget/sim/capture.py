"""Reading Bitget captures, and presenting the v1 ones (2022) in today's v2 framing.

The live captures in the fixtures are of Bitget's deprecated v1 streams (`/spot/v1/stream`,
`/mix/v1/stream`) and v1 REST (`/api/spot/v1/public/products`, `/api/mix/v1/market/contracts`).
The channels are the same ones v2 has; what the dialect maps, frame by frame (the strings of
prices, quantities and checksums are kept as captured, byte for byte):

* `arg.instType`: v1 `sp` -> v2 `SPOT`, v1 `mc` -> v2 `USDT-FUTURES`;
* every push gets v2's top-level `ts`: the capture's receive time in ms (v1 has none);
* `books`: each item gets v2's `seq`, which v1 lacks: the symbol's book pushes numbered 1, 2, 3,
  ... in capture order (increasing, as v2's `seq` is; its steps are not promised to be 1). The
  checksum is v1's, computed by the same rule v2 documents;
* `trade`: v1 items `[ts, price, size, side]` -> v2 objects `{ts, price, size, side, tradeId}`;
  v1 has no trade id: the symbol's trades numbered in capture order (ascending within a push);
* `candle1m`: v1 items have 6 fields (start, o, h, l, c, base volume); v2's quote and USDT
  volumes are not invented (the item stays 6 long);
* `ticker`: `last`/`bestBid`/`bestAsk` -> `lastPr`/`bidPr`/`askPr` (the connector uses `books1`
  for BBO, so tickers only pass through);
* subscribe acks are not replayed (the protocol answers subscriptions itself);
* REST: v1 products -> v2 `/api/v2/spot/public/symbols` items (`symbolName` -> `symbol`,
  `priceScale`/`quantityScale` -> `pricePrecision`/`quantityPrecision`); v1 `umcbl` contracts
  -> v2 `/api/v2/mix/market/contracts` items (`BTCUSDT_UMCBL` -> `BTCUSDT`, `symbolStatus`
  `normal`, `sizeMultiplier` one unit of `volumePlace`). v2 captures, when there are some, pass
  through unchanged.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from typing import Any
from urllib.parse import urlsplit

from ttxt_kafka.simulator.captures import Frame, HttpRecord
from ttxt_kafka.simulator.feeds import UnknownSymbol
from ttxt_kafka.simulator.op_args import captured_push
from ttxt_kafka.simulator.publication import Channel, Publication
from ttxt_kafka.simulator.replay import CaptureDialect
from ttxt_kafka.simulator.session import dumps
from ttxt_kafka.venues import VenueSpec

from .topics import INST_TYPES, parse_key

V1_INST_TYPES = {"sp": "SPOT", "mc": "USDT-FUTURES"}
_V1_PATHS = {"spot": "/spot/v1/stream", "usdt-futures": "/mix/v1/stream"}
_CHANNELS = {"trade": Channel.TRADES, "ticker": Channel.TICKER}


class V1Mapper:
    """Maps one venue's v1 frames to v2, keeping the per-symbol counters (`seq`, trade ids)."""

    def __init__(self) -> None:
        self.seq: dict[str, int] = defaultdict(int)
        self.trade_ids: dict[str, int] = defaultdict(int)

    def frame(self, obj: dict[str, Any], recv_ts: float) -> dict[str, Any]:
        arg = dict(obj["arg"])
        arg["instType"] = V1_INST_TYPES.get(arg["instType"], arg["instType"])
        channel, sym = arg["channel"], arg["instId"]
        data = obj["data"]
        if channel == "books":
            items = []
            for d in data:
                self.seq[sym] += 1
                items.append({"asks": d["asks"], "bids": d["bids"], "checksum": d["checksum"],
                              "seq": self.seq[sym], "ts": d["ts"]})
            data = items
        elif channel == "trade" and data and isinstance(data[0], list):
            # v1 lists the newest trade first: number them oldest first
            ids = {}
            for i in range(len(data) - 1, -1, -1):
                self.trade_ids[sym] += 1
                ids[i] = self.trade_ids[sym]
            data = [{"ts": t[0], "price": t[1], "size": t[2], "side": t[3],
                     "tradeId": str(ids[i])} for i, t in enumerate(data)]
        elif channel == "ticker":
            rename = {"last": "lastPr", "bestBid": "bidPr", "bestAsk": "askPr"}
            data = [{rename.get(k, k): v for k, v in d.items()} for d in data]
        return {"action": obj["action"], "arg": arg, "data": data, "ts": int(recv_ts * 1000)}


def v1_products_to_v2(body: dict[str, Any]) -> dict[str, Any]:
    items = [{"symbol": s["symbolName"], "baseCoin": s["baseCoin"], "quoteCoin": s["quoteCoin"],
              "minTradeAmount": s["minTradeAmount"], "maxTradeAmount": s["maxTradeAmount"],
              "takerFeeRate": s["takerFeeRate"], "makerFeeRate": s["makerFeeRate"],
              "pricePrecision": s["priceScale"], "quantityPrecision": s["quantityScale"],
              "status": s["status"]} for s in body["data"]]
    return {**body, "data": items}


def v1_contracts_to_v2(body: dict[str, Any]) -> dict[str, Any]:
    items = []
    for s in body["data"]:
        places = int(s["volumePlace"])
        item = {**s, "symbol": s["symbol"].split("_", 1)[0], "symbolType": "perpetual",
                "symbolStatus": "normal",
                "sizeMultiplier": f"{1 / 10 ** places:.{places}f}" if places else "1"}
        items.append(item)
    return {**body, "data": items}


class BitgetCaptureDialect(CaptureDialect):
    def __init__(self, spec: VenueSpec) -> None:
        super().__init__(spec)
        self.category = spec.category
        self.inst_type = INST_TYPES[spec.category]
        self._mapper = V1Mapper()
        self._instruments: dict[str, Any] | None = None
        self._instrument_symbols: set[str] = set()
        self._frame_symbols: set[str] = set()
        self._books: dict[str, dict[str, Any]] = {}  # symbol -> first book snapshot (v2)

    def wants_connection(self, url: str) -> bool:
        path = urlsplit(url).path.rstrip("/")
        return path.endswith(_V1_PATHS[self.category]) or path.endswith("/v2/ws/public")

    def classify(self, frame: Frame) -> Publication | None:
        obj = captured_push(frame.payload)
        if obj is None:
            return None  # pongs, acks: the protocol's to generate, not replayed
        arg = obj["arg"]
        if arg["instType"] in V1_INST_TYPES:
            obj = self._mapper.frame(obj, frame.ts)
            payload = dumps(obj)
        else:
            payload = frame.payload
            if arg["instType"] != self.inst_type:
                return None
        arg = obj["arg"]
        channel, symbol = arg["channel"], arg["instId"]
        kind = _CHANNELS.get(channel, Channel.KLINE if channel.startswith("candle")
                             else Channel.OTHER)
        if channel == "books":
            snapshot = obj["action"] == "snapshot"
            kind = Channel.BOOK_SNAPSHOT if snapshot else Channel.BOOK
            if snapshot and symbol not in self._books:
                self._books[symbol] = obj
        self._frame_symbols.add(symbol)
        return Publication(f"{channel}:{symbol}", payload, kind, symbol, frame.ts)

    def index_http(self, records: list[HttpRecord]) -> None:
        for rec in records:
            path = urlsplit(rec.url).path
            body = json.loads(rec.body)
            if self.category == "spot" and path.endswith("/api/spot/v1/public/products"):
                body = v1_products_to_v2(body)
            elif self.category == "spot" and path.endswith("/api/v2/spot/public/symbols"):
                pass
            elif self.category == "usdt-futures" and path.endswith("/api/mix/v1/market/contracts"):
                if "productType=umcbl" not in rec.url:
                    continue  # the coin-margined (dmcbl) contracts are another venue
                body = v1_contracts_to_v2(body)
            elif self.category == "usdt-futures" and path.endswith("/api/v2/mix/market/contracts"):
                if "productType=USDT-FUTURES" not in rec.url:
                    continue
            else:
                continue
            self._instruments = body
            self._instrument_symbols = {s["symbol"] for s in body["data"]}

    def symbols(self) -> set[str]:
        return self._instrument_symbols | self._frame_symbols

    def resolve(self, name: str, captured: set[str]) -> str:
        return self.resolve_known(name, captured, lambda n: parse_key(n).symbol)

    def depth_body(self, symbol: str, limit: int, stale_behind: int | None, position: float) -> str:
        """GET /api/v2/spot/market/orderbook shaped: the symbol's first captured snapshot."""
        if symbol not in self._books:
            raise UnknownSymbol(symbol)
        d = self._books[symbol]["data"][0]
        data = {"asks": d["asks"][:limit], "bids": d["bids"][:limit], "ts": d["ts"]}
        return dumps({"code": "00000", "msg": "success",
                       "requestTime": int(time.time() * 1000), "data": data})

    def instruments_body(self, symbols: list[str] | None) -> str:
        if self._instruments is not None:
            body = dict(self._instruments)
        else:
            listing = [{"symbol": s, "baseCoin": s[:-4], "quoteCoin": s[-4:],
                        "pricePrecision": "4", "quantityPrecision": "4", "pricePlace": "4",
                        "volumePlace": "4", "status": "online", "symbolStatus": "normal"}
                       for s in sorted(self.symbols())]
            body = {"code": "00000", "msg": "success", "data": listing}
        body["requestTime"] = int(time.time() * 1000)
        if symbols is not None:
            if not set(symbols) <= self.symbols():
                raise UnknownSymbol(symbols[0])
            body["data"] = [s for s in body["data"] if s["symbol"] in symbols]
        return dumps(body)
