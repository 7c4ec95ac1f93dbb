"""Synthetic market: gap-free ids in each venue's scheme, snapshots that bridge, a valid book."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sim_helpers import LocalBook, get_json, levels, read_rest, recv_json, ws_connect

from ttxt_kafka.simulator import Simulator, SyntheticSource
from ttxt_kafka.simulator.market.flow import OrderFlow
from ttxt_kafka.simulator.market.instruments import Instrument, default_instrument, fmt

STEPS = 5000  # per symbol; two symbols make 10k book updates per test


@dataclass
class _Sync:
    snapshot_id: int
    book: LocalBook
    synced: bool = False
    last_u: int | None = None
    updates: int = 0
    trades_checked: int = 0


def _check_binance_stream(
    frames: list[str], snaps: dict[str, Any], futures: bool
) -> dict[str, _Sync]:
    """Apply the documented sync rule for the venue and check every invariant on the way."""
    state = {
        s: _Sync(snap["lastUpdateId"], LocalBook(snap["bids"], snap["asks"]))
        for s, snap in snaps.items()
    }
    for frame in frames:
        data = json.loads(frame)["data"]
        st = state[data["s"]]
        if data["e"] == "depthUpdate":
            U, u = data["U"], data["u"]
            if st.last_u is not None:  # gap-free from the very first update received
                assert (data["pu"] == st.last_u) if futures else (st.last_u + 1 == U), (
                    st.last_u,
                    data,
                )
            assert u >= U
            st.last_u, st.updates = u, st.updates + 1
            lid = st.snapshot_id
            if not st.synced:
                if (u < lid) if futures else (u <= lid):
                    continue
                assert (U <= lid <= u) if futures else (U <= lid + 1 <= u), (lid, U, u)
                st.synced = True
            st.book.apply(data["b"], data["a"])
            assert st.book.best_bid() < st.book.best_ask()
        elif data["e"] == "aggTrade" and st.synced:
            price, qty = Decimal(data["p"]), Decimal(data["q"])
            side = st.book.bids if data["m"] else st.book.asks  # m: the buyer was the maker
            best = st.book.best_bid() if data["m"] else st.book.best_ask()
            assert price == best and qty <= side[price], data  # trades hit the book's top
            st.trades_checked += 1
    return state


async def _binance_synthetic(venue: str) -> None:
    futures = venue == "binance_usdm"
    prefix = "/fapi/v1" if futures else "/api/v3"
    source = SyntheticSource(seed=7, symbols=["BTCUSDT", "ETHUSDT"], rate=None, max_steps=STEPS)
    streams = "btcusdt@depth@100ms/ethusdt@depth@100ms/btcusdt@aggTrade/ethusdt@aggTrade"
    async with (
        Simulator(venue, source) as sim,
        ws_connect(f"{sim.ws_url}/stream?streams={streams}") as ws,
    ):
        snaps = {}
        for sym in ("BTCUSDT", "ETHUSDT"):
            snaps[sym] = await get_json(f"{sim.rest_url}{prefix}/depth?symbol={sym}&limit=1000")
        frames = await read_rest(ws, sim, timeout=30)
        state = _check_binance_stream(frames, snaps, futures)
        assert sum(st.updates for st in state.values()) >= 2 * STEPS
        assert all(st.synced and st.trades_checked > 100 for st in state.values())
        for sym, st in state.items():  # the book built from the stream is the exchange's book
            final = await get_json(f"{sim.rest_url}{prefix}/depth?symbol={sym}&limit=1000")
            if futures:  # USD-M steps the symbol before a snapshot: apply that update too
                while st.last_u != final["lastUpdateId"]:
                    data = (await recv_json(ws))["data"]
                    if data["e"] == "depthUpdate" and data["s"] == sym:
                        assert data["pu"] == st.last_u
                        st.book.apply(data["b"], data["a"])
                        st.last_u = data["u"]
            else:
                assert final["lastUpdateId"] == st.last_u
            bids, asks = st.book.top(1000)
            assert (bids, asks) == (levels(final["bids"]), levels(final["asks"]))


async def test_binance_spot_synthetic_gap_free_and_bridging() -> None:
    await _binance_synthetic("binance")


async def test_binance_usdm_synthetic_pu_chain_and_bridging() -> None:
    await _binance_synthetic("binance_usdm")


async def _bybit_synthetic(category: str) -> None:
    source = SyntheticSource(seed=3, symbols=["BTCUSDT", "ETHUSDT"], rate=None, max_steps=STEPS)
    topics = [
        "orderbook.50.BTCUSDT",
        "orderbook.200.ETHUSDT",
        "orderbook.1.BTCUSDT",
        "publicTrade.BTCUSDT",
        "publicTrade.ETHUSDT",
        "tickers.BTCUSDT",
        "kline.1.ETHUSDT",
    ]
    async with (
        Simulator(f"bybit_{category}", source) as sim,
        ws_connect(f"{sim.ws_url}/v5/public/{category}") as ws,
    ):
        await ws.send(json.dumps({"op": "subscribe", "args": topics, "req_id": "s"}))
        frames = await read_rest(ws, sim, timeout=30)
        books: dict[str, LocalBook] = {}
        last_u: dict[str, int] = {}
        seq: dict[str, int] = {}
        deltas = trades = 0
        kinds = set()
        for frame in frames:
            msg = json.loads(frame)
            if "op" in msg:
                assert msg["success"] and msg["req_id"] == "s"
                continue
            topic, data = msg["topic"], msg["data"]
            kinds.add(topic.split(".")[0])
            if topic.startswith("orderbook."):
                depth, sym = int(topic.split(".")[1]), data["s"]
                assert data["seq"] >= seq.get(sym, 0)
                seq[sym] = data["seq"]
                if msg["type"] == "snapshot":
                    if topic in last_u:  # depth 1 pushes snapshots only, still counting u
                        assert depth == 1 and data["u"] == last_u[topic] + 1
                    books[topic] = LocalBook(data["b"], data["a"])
                else:
                    assert data["u"] == last_u[topic] + 1, (topic, data["u"], last_u[topic])
                    books[topic].apply(data["b"], data["a"])
                    deltas += 1
                last_u[topic] = data["u"]
                book = books[topic]
                assert len(book.bids) <= depth and len(book.asks) <= depth
                assert book.best_bid() < book.best_ask()
            elif topic.startswith("publicTrade.") and f"orderbook.50.{data[0]['s']}" in books:
                book, t = books[f"orderbook.50.{data[0]['s']}"], data[0]
                best = book.best_ask() if t["S"] == "Buy" else book.best_bid()
                assert Decimal(t["p"]) == best
                trades += 1
        assert deltas >= STEPS and trades > 100
        assert kinds == {"orderbook", "publicTrade", "tickers", "kline"}
        for topic, book in books.items():  # the REST book agrees with the streamed view
            depth, sym = int(topic.split(".")[1]), topic.split(".")[2]
            rest = await get_json(
                f"{sim.rest_url}/v5/market/orderbook?category={category}&symbol={sym}&limit={depth}"
            )
            assert book.top(depth) == (levels(rest["result"]["b"]), levels(rest["result"]["a"]))


async def test_bybit_linear_synthetic_snapshot_then_contiguous_deltas() -> None:
    await _bybit_synthetic("linear")


async def test_bybit_spot_synthetic_snapshot_then_contiguous_deltas() -> None:
    await _bybit_synthetic("spot")


async def test_binance_synthetic_decimal_strings_are_exact() -> None:
    source = SyntheticSource(seed=1, symbols=["BTCUSDT", "DOGEUSDT"], rate=None, max_steps=300)
    streams = "btcusdt@depth/dogeusdt@depth/btcusdt@bookTicker/btcusdt@kline_1m/btcusdt@trade"
    async with (
        Simulator("binance", source) as sim,
        ws_connect(f"{sim.ws_url}/stream?streams={streams}") as ws,
    ):
        frames = [json.loads(f)["data"] for f in await read_rest(ws, sim)]
        info = await get_json(f"{sim.rest_url}/api/v3/exchangeInfo")
    ticks = {s["symbol"]: Decimal(s["filters"][0]["tickSize"]) for s in info["symbols"]}
    assert ticks == {"BTCUSDT": Decimal("0.1"), "DOGEUSDT": Decimal("0.00001")}
    prices = [p for d in frames if d.get("e") == "depthUpdate" for p, _ in d["b"] + d["a"]]
    prices += [d["b"] for d in frames if "B" in d and "e" not in d]
    assert prices
    for p in prices:
        whole, frac = p.split(".")
        assert len(frac) == 8  # spot prints 8 decimals, as the capture does
    depth = [d for d in frames if d.get("e") == "depthUpdate"]
    for d in depth:
        for p, _ in d["b"] + d["a"]:
            assert Decimal(p) % ticks[d["s"]] == 0
    kline = next(d for d in frames if d.get("e") == "kline")["k"]
    assert Decimal(kline["q"]) > 0 and kline["i"] == "1m"


def test_order_flow_is_deterministic_per_seed() -> None:
    inst = default_instrument("ETHUSDT")

    def run(seed: int) -> list[tuple[Any, ...]]:
        flow = OrderFlow(inst, seed)
        return [(s.bids, s.asks, s.trade) for s in (flow.step(0) for _ in range(500))]

    assert run(5) == run(5)
    assert run(5) != run(6)


def test_exact_decimal_formatting() -> None:
    assert fmt(650001, 1, 2) == "65000.10"
    assert fmt(650000, 1) == "65000"
    assert fmt(15, 5, 8) == "0.00015000"
    assert fmt(0, 3, 3) == "0.000"
    inst = Instrument("XUSDT", "X", "USDT", "0.5", "0.001", "100")
    assert inst.start_ticks == 200 and inst.price(201) == "100.5" and inst.price(201, 2) == "100.50"
    assert inst.notional(3 * 7) == "0.0105"  # 3 ticks * 7 lots = 1.5 * 0.007


async def test_rate_paces_the_market() -> None:
    source = SyntheticSource(seed=2, symbols=["BTCUSDT"], rate=100)
    async with Simulator("bybit_linear", source) as sim, ws_connect(sim.ws_endpoint) as ws:
        await ws.send(json.dumps({"op": "subscribe", "args": ["publicTrade.BTCUSDT"]}))
        await recv_json(ws)
        steps0 = sim.state()["source"]["steps"]
        await asyncio.sleep(0.5)
        steps = sim.state()["source"]["steps"] - steps0
        assert 25 <= steps <= 75, steps


async def test_market_idles_without_subscribers() -> None:
    source = SyntheticSource(seed=2, symbols=["BTCUSDT"], rate=None)
    async with Simulator("binance", source) as sim:
        await asyncio.sleep(0.1)
        assert sim.state()["source"]["steps"] == 0
        info = await get_json(f"{sim.rest_url}/api/v3/exchangeInfo")
        assert info["symbols"][0]["symbol"] == "BTCUSDT"


async def test_resubscribing_does_not_double_count() -> None:
    source = SyntheticSource(seed=4, symbols=["BTCUSDT"], rate=2000)
    async with Simulator("binance", source) as sim, ws_connect(f"{sim.ws_url}/ws") as ws:
        for i, method in enumerate(("SUBSCRIBE", "UNSUBSCRIBE", "SUBSCRIBE"), 1):
            await ws.send(json.dumps({"method": method, "params": ["btcusdt@kline_1m"], "id": i}))
        await ws.send(json.dumps({"method": "SUBSCRIBE", "params": ["btcusdt@aggTrade"], "id": 4}))
        trades_since, last = 0, None
        checked = 0
        while checked < 50:
            msg = await recv_json(ws)
            if msg.get("e") == "aggTrade":
                trades_since += 1
            elif msg.get("e") == "kline":
                k = msg["k"]
                if last is not None and last["t"] == k["t"]:
                    assert k["n"] - last["n"] == trades_since  # one candle update per trade
                    checked += 1
                last, trades_since = k, 0


async def test_bybit_resubscribe_gets_a_fresh_snapshot() -> None:
    source = SyntheticSource(seed=4, symbols=["BTCUSDT"], rate=2000)
    async with Simulator("bybit_linear", source) as sim, ws_connect(sim.ws_endpoint) as ws:

        async def book_messages(n: int) -> list[dict[str, Any]]:
            out: list[dict[str, Any]] = []
            while len(out) < n:
                msg = await recv_json(ws)
                if msg.get("topic") == "orderbook.50.BTCUSDT":
                    out.append(msg)
            return out

        sub = {"op": "subscribe", "args": ["orderbook.50.BTCUSDT"]}
        await ws.send(json.dumps(sub))
        first = await book_messages(20)
        await ws.send(json.dumps({"op": "unsubscribe", "args": ["orderbook.50.BTCUSDT"]}))
        await asyncio.sleep(0.05)
        await ws.send(json.dumps(sub))
        again = await book_messages(20)
        snapshots = [m for m in again if m["type"] == "snapshot"]
        assert len(snapshots) == 1
        # Deltas already in flight when the unsubscribe arrived may come first (how many
        # depends on load); the fresh snapshot already includes them (u <= the snapshot's u).
        at = again.index(snapshots[0])
        assert all(m["type"] == "delta" and m["data"]["u"] <= snapshots[0]["data"]["u"]
                   for m in again[:at])
        tail = again[at:]
        us = [m["data"]["u"] for m in tail]
        assert us == list(range(us[0], us[0] + len(us)))
        assert us[0] >= first[-1]["data"]["u"]


async def test_bitget_synthetic_checksums_and_seq() -> None:
    """`books` of both markets: a snapshot, then updates with seq + 1; every push's checksum is
    the CRC32 of the client's own book (computed here by the documented rule); books1 is the
    best level; trades happen at the best price; the REST book is the streamed one."""
    from connector_support import bitget_crc

    for venue, inst_type, path in (("bitget_spot", "SPOT", "spot/market/orderbook?"),
                                   ("bitget_usdtm", "USDT-FUTURES",
                                    "mix/market/merge-depth?productType=USDT-FUTURES&")):
        source = SyntheticSource(seed=3, symbols=["BTCUSDT", "ETHUSDT"], rate=None,
                                 max_steps=STEPS // 5)
        args = [{"instType": inst_type, "channel": c, "instId": s}
                for s in ("BTCUSDT", "ETHUSDT") for c in ("books", "books1", "trade", "candle1m")]
        async with Simulator(venue, source) as sim, ws_connect(sim.ws_endpoint) as ws:
            await ws.send(json.dumps({"op": "subscribe", "args": args}))
            frames = await read_rest(ws, sim, timeout=30)
            books: dict[str, LocalBook] = {}
            last_seq: dict[str, int] = {}
            strings: dict[str, dict[str, dict[Decimal, str]]] = {}  # the levels as sent
            checked = trades = bbos = 0
            for frame in frames:
                msg = json.loads(frame)
                if "event" in msg:
                    assert msg["event"] == "subscribe"
                    continue
                channel, sym = msg["arg"]["channel"], msg["arg"]["instId"]
                assert msg["arg"]["instType"] == inst_type
                if channel == "books":
                    [d] = msg["data"]
                    if msg["action"] == "snapshot":
                        books[sym] = LocalBook(d["bids"], d["asks"])
                        strings[sym] = {"b": {}, "a": {}}
                    else:
                        assert d["seq"] == last_seq[sym] + 1
                        books[sym].apply(d["bids"], d["asks"])
                    last_seq[sym] = d["seq"]
                    side = strings[sym]
                    for key, levels_ in (("b", d["bids"]), ("a", d["asks"])):
                        for px, qty in levels_:
                            if Decimal(qty) == 0:
                                side[key].pop(Decimal(px), None)
                            else:
                                side[key][Decimal(px)] = f"{px}\0{qty}"
                    top_b = [side["b"][p].split("\0") for p in sorted(side["b"], reverse=True)]
                    top_a = [side["a"][p].split("\0") for p in sorted(side["a"])]
                    assert bitget_crc(top_b[:25], top_a[:25]) == d["checksum"]
                    assert books[sym].best_bid() < books[sym].best_ask()
                    checked += 1
                elif channel == "books1":
                    [d] = msg["data"]
                    assert len(d["bids"]) == len(d["asks"]) == 1
                    assert Decimal(d["bids"][0][0]) == books[sym].best_bid()
                    bbos += 1
                elif channel == "trade" and sym in books:
                    [t] = msg["data"]
                    book = books[sym]
                    assert Decimal(t["price"]) == (book.best_ask() if t["side"] == "buy"
                                                   else book.best_bid())
                    trades += 1
            assert checked > STEPS // 5 and trades > 20 and bbos > 20
            for sym, book in books.items():
                rest = await get_json(f"{sim.rest_url}/api/v2/{path}symbol={sym}&limit=150")
                assert book.top(150) == (levels(rest["data"]["bids"]), levels(rest["data"]["asks"]))


async def test_coinbase_synthetic_counter_and_book() -> None:
    """Coinbase: one `sequence_num` counter per connection, gap-free across every channel and
    product (answers and heartbeats included); level2 a snapshot then absolute sizes, the book
    never crossed and equal to the market's at the end; trades' `side` is the maker's."""
    source = SyntheticSource(seed=11, symbols=["BTC-USD", "ETH-USD"], rate=None, max_steps=1500)
    async with Simulator("coinbase_spot", source) as sim:
        async with ws_connect(sim.ws_url + "/") as ws:
            for channel in ("level2", "market_trades", "ticker", "candles", "heartbeats"):
                await ws.send(json.dumps({"type": "subscribe", "channel": channel,
                                          "product_ids": ["BTC-USD", "ETH-USD"]}))
            frames = await read_rest(ws, sim)
        books: dict[str, LocalBook] = {}
        seqs = []
        trades = 0
        for raw in frames:
            msg = json.loads(raw)
            seqs.append(msg["sequence_num"])
            if msg["channel"] == "l2_data":
                for ev in msg["events"]:
                    bids = [[u["price_level"], u["new_quantity"]] for u in ev["updates"]
                            if u["side"] == "bid"]
                    asks = [[u["price_level"], u["new_quantity"]] for u in ev["updates"]
                            if u["side"] == "offer"]
                    if ev["type"] == "snapshot":
                        books[ev["product_id"]] = LocalBook(bids, asks)
                    else:
                        books[ev["product_id"]].apply(bids, asks)
                    book = books[ev["product_id"]]
                    assert book.best_bid() < book.best_ask()
            elif msg["channel"] == "market_trades":
                [t] = msg["events"][0]["trades"]
                book = books[t["product_id"]]
                # pushed before the book update it causes: a taker buy (the maker's side SELL)
                # took the best ask of the book as it was, a taker sell the best bid
                price = Decimal(t["price"])
                assert price == (book.best_ask() if t["side"] == "SELL" else book.best_bid())
                trades += 1
        assert seqs == list(range(len(seqs))) and len(seqs) > 3000
        assert trades > 100
        for product, book in books.items():
            m = sim.feed.markets[product]  # type: ignore[attr-defined]
            rest = json.loads(sim.feed.fmt.depth_body(m, 10**6, None))["pricebook"]  # type: ignore[attr-defined]
            assert {Decimal(b["price"]): Decimal(b["size"]) for b in rest["bids"]} == book.bids
            assert {Decimal(a["price"]): Decimal(a["size"]) for a in rest["asks"]} == book.asks
