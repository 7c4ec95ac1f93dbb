"""Backtests in process: determinism over recorded files, PnL against a hand computation, time
and latency, order validation, the chart, the CLI. (Through Kafka: test_backtest_kafka.py.)"""

from __future__ import annotations

import json
import struct
from decimal import Decimal
from pathlib import Path

import pytest
from backtest_helpers import T0_MS, record_files, synthetic_market
from recorder_helpers import ttxt

from ttxt_kafka.events import (
    AckStatus,
    ConnectorState,
    ConnectorStatus,
    Event,
    Fill,
    OrderAck,
    OrderBook,
    OrderStatus,
    OrderUpdate,
    PositionUpdate,
    Side,
    Trade,
    Trades,
    UpdateType,
    Wallet,
)
from ttxt_kafka.matching import FeeSchedule, MarketKind
from ttxt_kafka.strategies import Strategy
from ttxt_kafka.strategies.backtest import (
    Backtest,
    BacktestConfig,
    BacktestError,
    build_report,
    file_events,
    run_backtest,
    write_report,
)
from ttxt_kafka.strategies.backtest.config import (
    ConfigError,
    parse_balance,
    parse_fees,
    parse_instrument,
)
from ttxt_kafka.strategies.backtest.ledger import SymbolLedger
from ttxt_kafka.strategies.examples.market_maker import MarketMaker

D = Decimal
SOL = "SOL/USDT"
REPORT_FILES = ("fills.csv", "equity.csv", "summary.json")


def market_maker() -> MarketMaker:
    return MarketMaker(symbols=[SOL], spread_bps="2", requote_bps="2", tick="0.01", size="1")


def mm_config() -> BacktestConfig:
    return BacktestConfig(balances={"*": {"USDT": D(100_000), "SOL": D(1000)}})


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """10 minutes of the simulator's synthetic SOL/USDT market, written by the recorder's file
    stage (InstrumentInfo, a snapshot, then trades and book deltas every 100 ms)."""
    return record_files(synthetic_market(symbol=SOL, steps=6000),
                        tmp_path_factory.mktemp("bt") / "data")


async def test_a_backtest_over_a_recorded_file_gives_the_same_fills_twice_in_a_row(
        recorded: Path, tmp_path: Path) -> None:
    reports = []
    for run in ("a", "b"):
        reports.append(await run_backtest(market_maker(), file_events(recorded), mm_config(),
                                          out_dir=tmp_path / run, name="mm"))
    first, second = reports
    fills = (tmp_path / "a" / "fills.csv").read_text().splitlines()
    assert len(fills) - 1 == first.stats.fills >= 20
    sides = {line.split(",")[4] for line in fills[1:]}
    assert sides == {"BUY", "SELL"}
    for name in (*REPORT_FILES, "chart_BINANCE_SOL_USDT.png"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert first.stats == second.stats
    assert first.symbols[0].rules == "recorded"  # the recorded InstrumentInfo was used
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert summary["fills"] == first.stats.fills
    assert Decimal(summary["symbols"][0]["total_pnl"]) == first.symbols[0].total


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert data[-8:-4] == b"IEND"
    return width, height


async def test_the_chart_is_a_png_of_sensible_size(recorded: Path, tmp_path: Path) -> None:
    report = await run_backtest(market_maker(), file_events(recorded), mm_config(),
                                out_dir=tmp_path)
    chart = tmp_path / (report.symbols[0].chart or "")
    width, height = png_size(chart)
    assert 900 <= width <= 1600 and 600 <= height <= 1000
    assert 30_000 < chart.stat().st_size < 1_000_000
    assert str(chart) in report.text()


# ---------------------------------------------------------------------- a scripted scenario

T0 = T0_MS * 1000
SECOND = 1_000_000
HEAD = {"venue": "sim", "symbol": "X/USDT", "native_symbol": "XUSDT"}


def book(ts: int, bids: list[list[str]], asks: list[list[str]], snapshot: bool = True
         ) -> OrderBook:
    return OrderBook(**HEAD, exchange_ts=ts, receive_ts=ts, bids=bids, asks=asks,  # type: ignore[arg-type]
                     update_type=UpdateType.SNAPSHOT if snapshot else UpdateType.DELTA)


def scenario() -> list[Event]:
    """A market buy of 2 taken at 101, a post-only sell of 1 at 105 filled by a market buy
    through it at 106, and the last book's mid at 103."""
    return [
        book(T0, [["100", "5"]], [["101", "5"]]),
        book(T0 + SECOND, [], [["101", "3"]], snapshot=False),
        Trades(**HEAD, exchange_ts=T0 + 2 * SECOND, receive_ts=0,  # type: ignore[arg-type]
               trades=[Trade(trade_id="1", price="106", qty="3", side=Side.BUY,
                             exchange_ts=T0 + 2 * SECOND)]),
        book(T0 + 3 * SECOND, [["102", "5"]], [["104", "5"]]),
    ]


class BuyThenSell(Strategy):
    venues = ["sim"]
    symbols = ["X/USDT"]
    channels = ["book", "trades", "executions", "account"]
    sell_price = "105"

    def on_start(self) -> None:
        self.books = 0
        self.seen: list[Event] = []

    def on_orderbook(self, event: OrderBook) -> None:
        self.books += 1
        if self.books == 1:
            self.ctx.buy("X/USDT", "2")  # market
        elif self.books == 2:
            self.ctx.sell("X/USDT", "1", self.sell_price, post_only=True)

    def on_order_ack(self, event: OrderAck) -> None:
        self.seen.append(event)

    def on_order_update(self, event: OrderUpdate) -> None:
        self.seen.append(event)

    def on_fill(self, event: Fill) -> None:
        self.seen.append(event)

    def on_wallet(self, event: Wallet) -> None:
        self.seen.append(event)

    def on_position(self, event: PositionUpdate) -> None:
        self.seen.append(event)


def scenario_config(kind: MarketKind, latency_us: int = 5000) -> BacktestConfig:
    return BacktestConfig(balances={"sim": {"USDT": D(1000)}}, markets={"sim": kind},
                          fees={"*": FeeSchedule(D("0.001"), D("0.002"))},
                          latency_us=latency_us)


@pytest.mark.parametrize("kind", [MarketKind.SPOT, MarketKind.LINEAR])
async def test_pnl_matches_a_hand_computation(kind: MarketKind, tmp_path: Path) -> None:
    strategy = BuyThenSell()
    bt = Backtest(strategy, scenario_config(kind))
    await bt.run(scenario())
    report = write_report(bt, build_report(bt), tmp_path, charts=False)

    # By hand. Buy 2 @ 101 (taker, 0.2 %), sell 1 @ 105 (maker, 0.1 %), final mid 103.
    #   realized   = (105 - 101) x 1                                   = 4
    #   unrealized = (103 - 101) x 1                                   = 2
    #   fees spot  = 0.004 X (a buy pays in base) x 103 + 0.105 USDT   = 0.517
    #   fees linear= 2 x 101 x 0.002 + 0.105                           = 0.509
    spot = kind is MarketKind.SPOT
    fees = D("0.517") if spot else D("0.509")
    (result,) = report.symbols
    assert (result.realized, result.unrealized, result.fees_value) == (D(4), D(2), fees)
    assert result.total == D(6) - fees
    assert result.position == 1 and result.mark == 103
    assert result.fees == ({"X": D("0.004"), "USDT": D("0.105")} if spot
                           else {"USDT": D("0.509")})
    # The total is exactly what the account gained, valued at the final mid.
    balances = report.venues["sim"]["balances"]
    if spot:
        assert balances == {"USDT": {"start": "1000", "end": "902.895"},
                            "X": {"start": "0", "end": "0.996"}}
        gained = D("0.996") * 103 + D("902.895") - 1000
    else:
        assert balances == {"USDT": {"start": "1000", "end": "1003.491"}}
        gained = D("1003.491") + result.unrealized - 1000  # wallet + open position's PnL
    assert gained == result.total

    # The fills, at the simulated times: the market buy 5 ms (the latency) after the book it
    # answered; the resting sell when the market trade went through it.
    rows = [line.split(",") for line in (tmp_path / "fills.csv").read_text().splitlines()]
    assert rows[0][:10] == ["time", "ts_us", "venue", "symbol", "side", "price", "qty", "fee",
                            "fee_asset", "liquidity"]
    assert [r[1:10] for r in rows[1:]] == [
        [str(T0 + 5000), "sim", "X/USDT", "BUY", "101", "2", "0.004" if spot else "0.404",
         "X" if spot else "USDT", "taker"],
        [str(T0 + 2 * SECOND), "sim", "X/USDT", "SELL", "105", "1", "0.105", "USDT", "maker"]]
    assert [r[-2:] for r in rows[1:]] == [["2", "0"], ["1", "4"]]  # position, realized after
    summary = json.loads((tmp_path / "summary.json").read_text())["symbols"][0]
    assert (summary["realized_pnl"], summary["unrealized_pnl"], summary["total_pnl"]) == (
        "4", "2", str(D(6) - fees))

    # The strategy saw what a venue's private stream would have told it, in order.
    fills = [e for e in strategy.seen if isinstance(e, Fill)]
    assert [(f.side, f.price, f.qty, f.is_maker) for f in fills] == [
        (Side.BUY, "101", "2", False), (Side.SELL, "105", "1", True)]
    acks = [e for e in strategy.seen if isinstance(e, OrderAck)]
    assert [a.status for a in acks] == [AckStatus.ACCEPTED] * 2
    assert all(a.exchange_ts == a.receive_ts for a in acks)  # no report latency
    statuses = [e.status for e in strategy.seen if isinstance(e, OrderUpdate)]
    assert statuses == [OrderStatus.NEW, OrderStatus.FILLED, OrderStatus.NEW,
                        OrderStatus.FILLED]
    assert bt.runtime.ctx.open_orders() == []
    wallets = [e for e in strategy.seen if isinstance(e, Wallet)]
    assert wallets[0].is_snapshot and wallets[0].balances[0].total == "1000"
    if not spot:
        assert bt.runtime.ctx.position("X/USDT") == 1
        assert [p.size for p in strategy.seen if isinstance(p, PositionUpdate)] == ["2", "1"]


async def test_latency_moves_the_order_in_exchange_time() -> None:
    for latency, when in ((0, T0), (250_000, T0 + 250_000)):
        bt = Backtest(BuyThenSell(), scenario_config(MarketKind.SPOT, latency))
        await bt.run(scenario())
        first = bt.tracker.tracks[("sim", "X/USDT")].fills[0].fill
        assert first.exchange_ts == when
    # 1.5 s: the buy meets the book as it is then (3 left at 101); the sell, sent at 1 s,
    # arrives at 2.5 s, after the market trade at 2 s that would have filled it: it rests.
    bt = Backtest(BuyThenSell(), scenario_config(MarketKind.SPOT, 1_500_000))
    await bt.run(scenario())
    fills = bt.tracker.tracks[("sim", "X/USDT")].fills
    assert [(f.fill.exchange_ts, f.fill.price) for f in fills] == [(T0 + 1_500_000, "101")]
    assert [o.price for o in bt.runtime.ctx.open_orders()] == ["105"]
    assert build_report(bt).open_orders == 1


async def test_commands_are_validated_like_the_connector_does() -> None:
    class BadTick(BuyThenSell):
        sell_price = "105.3"

    config = scenario_config(MarketKind.SPOT)
    config.instruments = [parse_instrument("sim:X/USDT:tick=0.5,lot=0.1", None, config)]
    strategy = BadTick()
    bt = Backtest(strategy, config)
    await bt.run(scenario())
    acks = [e for e in strategy.seen if isinstance(e, OrderAck)]
    assert [a.status for a in acks] == [AckStatus.ACCEPTED, AckStatus.REJECTED]
    assert acks[1].reason == "price 105.3 is not a multiple of tick 0.5"
    assert bt.stats.reject_reasons == {"INVALID_COMMAND": 1}
    assert bt.venues["sim"].sources["X/USDT"] == "configured"

    # Without instrument info the rules are inferred from the data: tick 1, lot 1 here.
    strategy = BadTick()
    bt = Backtest(strategy, scenario_config(MarketKind.SPOT))
    await bt.run(scenario())
    assert bt.venues["sim"].sources["X/USDT"] == "inferred"
    acks = [e for e in strategy.seen if isinstance(e, OrderAck)]
    assert acks[1].reason == "price 105.3 is not a multiple of tick 1"

    # The engine's own refusals come back as rejected acks with its reason code.
    class TooBig(BuyThenSell):
        def on_orderbook(self, event: OrderBook) -> None:
            if not self.books:
                self.ctx.buy("X/USDT", "100", "101")
            self.books += 1

    too_big = TooBig()
    bt = Backtest(too_big, scenario_config(MarketKind.SPOT))
    await bt.run(scenario())
    (ack,) = [e for e in too_big.seen if isinstance(e, OrderAck)]
    assert (ack.status, ack.error_code) == (AckStatus.REJECTED, "INSUFFICIENT_BALANCE")


async def test_a_broken_recorded_book_offers_no_liquidity_until_its_next_snapshot() -> None:
    class BuyOnTrade(BuyThenSell):
        channels = ["trades", "executions"]

        def on_orderbook(self, event: OrderBook) -> None:
            pass

        def on_trades(self, event: Trades) -> None:
            self.ctx.buy("X/USDT", "1")

    events = scenario()
    events.insert(2, ConnectorStatus(**HEAD, exchange_ts=T0 + SECOND, receive_ts=0,  # type: ignore[arg-type]
                                     stream="book", status=ConnectorState.BOOK_RESYNC,
                                     reason="gap"))
    strategy = BuyOnTrade()
    bt = Backtest(strategy, scenario_config(MarketKind.SPOT))
    await bt.run(events)
    (update,) = [e for e in strategy.seen if isinstance(e, OrderUpdate)][-1:]
    assert (update.status, update.reason) == (OrderStatus.EXPIRED, "NO_LIQUIDITY")
    assert bt.stats.fills == 0


async def test_empty_input_is_a_clear_error() -> None:
    with pytest.raises(BacktestError, match="no market data"):
        await Backtest(BuyThenSell()).run([])


def test_fifo_ledger_is_exact() -> None:
    led = SymbolLedger("v", "X/USDT", "X", "USDT")

    def fill(side: Side, price: str, qty: str) -> Decimal:
        return led.fill(Fill(**HEAD, exchange_ts=0, receive_ts=0, client_order_id="c",  # type: ignore[arg-type]
                             order_id="1", trade_id="1", side=side, price=price, qty=qty,
                             fee="0", fee_currency="USDT", is_maker=True))

    assert fill(Side.BUY, "100.1", "0.3") == 0
    assert fill(Side.BUY, "100.2", "0.3") == 0
    assert fill(Side.SELL, "100.4", "0.4") == D("0.3") * D("0.3") + D("0.1") * D("0.2")
    assert fill(Side.SELL, "99.9", "0.5") == D("0.2") * D("-0.3")  # closes 0.2, opens a short
    assert led.position == D("-0.3")
    assert led.unrealized(D("99.8")) == D("0.03")
    assert led.entry_price() == D("99.9")


def test_cli_forms_are_checked() -> None:
    balances: dict[str, dict[str, Decimal]] = {}
    parse_balance("USDT=1000", balances)
    parse_balance("bybit_spot:btc=0.5", balances)
    assert balances == {"*": {"USDT": D(1000)}, "bybit_spot": {"BTC": D("0.5")}}
    fees: dict[str, FeeSchedule] = {}
    parse_fees("0.0002,0.0005", fees)
    assert fees["*"] == FeeSchedule(D("0.0002"), D("0.0005"))
    for bad in ("USDT", "USDT=abc", "USDT=-1"):
        with pytest.raises(ConfigError, match="--balance"):
            parse_balance(bad, {})
    for bad in ("0.1", "x,y", "0.001,-0.001"):
        with pytest.raises(ConfigError, match="--fees"):
            parse_fees(bad, {})
    with pytest.raises(ConfigError, match="name the venue"):
        parse_instrument("X/USDT:tick=0.1", None, BacktestConfig())
    config = BacktestConfig()
    assert config.market_of("binance_usdm") is MarketKind.LINEAR
    assert config.market_of("bybit_spot") is MarketKind.SPOT
    assert config.fees_of("binance_usdm") == FeeSchedule(D("0.0002"), D("0.0005"))


def test_cli_runs_a_backtest_and_prints_where_the_report_is(recorded: Path,
                                                             tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = ttxt("backtest", "ttxt_kafka.strategies.examples.market_maker:MarketMaker", "--files",
                  str(recorded), "--symbol", SOL, "--param", "spread_bps=2", "--param",
                  "requote_bps=2", "--param", "tick=0.01", "--param", "size=1", "--balance",
                  "USDT=100000", "--balance", "SOL=1000", "--fees", "0.0002,0.0005",
                  "--until", str(T0_MS + 300_000), "--out", str(out))
    assert result.returncode == 0, result.stderr
    text = result.stdout
    for needle in ("commands", "fills", "realized", "unrealized", "total", "position",
                   "maker 0.02% taker 0.05%", str(out / "fills.csv"),
                   str(out / "chart_BINANCE_SOL_USDT.png")):
        assert needle in text, (needle, text)
    assert all((out / name).is_file() for name in REPORT_FILES)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["input"]["last"] < "2023-11-14T22:18:21"

    missing = ttxt("backtest", "ttxt_kafka.strategies.examples.market_maker:MarketMaker", "--files",
                   str(tmp_path / "nope"))
    assert missing.returncode == 2 and "no recorder directory" in missing.stderr
    bad = ttxt("backtest", "ttxt_kafka.strategies.examples.market_maker:MarketMaker", "--files",
               str(recorded), "--fees", "1,2")
    assert bad.returncode == 2 and "--fees" in bad.stderr
