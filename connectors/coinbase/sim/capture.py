"""Reading Coinbase Advanced Trade captures (cryptofeed v3 JSONL of
`wss://advanced-trade-ws.coinbase.com` plus the REST product list).

The captures are today's API: nothing is re-framed. What the dialect maps: each `l2_data`,
`market_trades`, `candles` and `ticker` message becomes a publication of its product's stream
(`<channel>.<PRODUCT>`; `level2` for `l2_data`), its bytes verbatim except `sequence_num`,
which the protocol stamps per connection as it queues messages (Coinbase's counter is the
connection's, not the message's). Captured `heartbeats` and `subscriptions` messages are not
replayed: the protocol generates both (heartbeats a second, answers on each request), as
Coinbase does for the connection at hand. REST: the captured product list; the capture holds no
REST order book.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from ttxt_kafka.connectors.coinbase import endpoints as ep
from ttxt_kafka.simulator.captures import Frame, HttpRecord
from ttxt_kafka.simulator.feeds import UnknownStream, UnknownSymbol
from ttxt_kafka.simulator.publication import Channel, Publication
from ttxt_kafka.simulator.replay import CaptureDialect
from ttxt_kafka.simulator.session import dumps
from ttxt_kafka.venues import VenueSpec

from .streams import key_of, parse

_CHANNELS = {ep.TRADES: Channel.TRADES, ep.CANDLES: Channel.KLINE, ep.TICKER: Channel.TICKER}


def _product(channel: str, event: dict[str, Any]) -> str:
    if channel == ep.L2_DATA:
        return str(event["product_id"])
    items = event[{ep.TRADES: "trades", ep.CANDLES: "candles", ep.TICKER: "tickers"}[channel]]
    return str(items[0]["product_id"]) if items else ""


class CoinbaseCaptureDialect(CaptureDialect):
    def __init__(self, spec: VenueSpec) -> None:
        super().__init__(spec)
        self._products_body: str | None = None
        self._products: set[str] = set()
        self._frame_products: set[str] = set()

    def wants_connection(self, url: str) -> bool:
        return urlsplit(url).hostname == urlsplit(ep.WS).hostname or url.rstrip("/").endswith(
            "advanced-trade-ws.coinbase.com")

    def index_http(self, records: list[HttpRecord]) -> None:
        for rec in records:
            if urlsplit(rec.url).path.endswith(ep.PRODUCTS_PATH):
                self._products_body = rec.body
                self._products = {p["product_id"] for p in json.loads(rec.body)["products"]}

    def classify(self, frame: Frame) -> Publication | None:
        head = frame.payload[:40]
        if '"channel":"heartbeats"' in head or '"channel":"subscriptions"' in head:
            return None  # the protocol's own, per connection
        try:
            msg = json.loads(frame.payload)
            channel, events = msg["channel"], msg["events"]
            product = _product(channel, events[0]) if channel in (*_CHANNELS, ep.L2_DATA) \
                else ""
        except (ValueError, KeyError, TypeError, IndexError):
            return None
        if not product:
            return None
        self._frame_products.add(product)
        if channel == ep.L2_DATA:
            kind = Channel.BOOK_SNAPSHOT if events[0]["type"] == "snapshot" else Channel.BOOK
            return Publication(key_of(ep.LEVEL2, product), frame.payload, kind, product,
                               frame.ts)
        return Publication(key_of(channel, product), frame.payload, _CHANNELS[channel], product,
                           frame.ts)

    def symbols(self) -> set[str]:
        return self._products | self._frame_products

    def resolve(self, name: str, captured: set[str]) -> str:
        if parse(name).product not in self.symbols():
            raise UnknownStream(name)
        return name

    def depth_body(self, symbol: str, limit: int, stale_behind: int | None, position: float) -> str:
        raise UnknownSymbol(f"{symbol}: the capture holds no REST order book")

    def instruments_body(self, symbols: list[str] | None) -> str:
        if self._products_body is None:
            products: list[dict[str, Any]] = [
                {"product_id": p, "base_currency_id": p.partition("-")[0],
                 "quote_currency_id": p.partition("-")[2], "base_increment": "0.00000001",
                 "quote_increment": "0.01", "price_increment": "0.01",
                 "base_min_size": "0.00000001", "base_max_size": "1000000",
                 "quote_min_size": "1", "status": "online", "product_type": "SPOT"}
                for p in sorted(self.symbols())]
            body: dict[str, Any] = {"products": products, "num_products": len(products)}
        else:
            body = json.loads(self._products_body)
        if symbols is not None:
            body["products"] = [p for p in body["products"] if p["product_id"] in symbols]
            body["num_products"] = len(body["products"])
        return dumps(body)
