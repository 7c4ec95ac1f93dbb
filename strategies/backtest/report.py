"""A backtest's report: the numbers (exact), the files, and the summary a person reads.

Files, in the output directory:

* `fills.csv` — every fill: time, venue, symbol, side, price, qty, fee and its asset, maker or
  taker, order and trade ids, and the position and realized PnL after it;
* `equity.csv` — PnL over time per symbol: a row every sample interval (1 s of exchange time)
  and after each fill: mid, position, realized, unrealized, fees (valued in the quote asset),
  total;
* `summary.json` — everything the printed summary says, numbers as exact decimal strings;
* `chart_<TICKER>.png` — per symbol: mid, fills and PnL (`chart.py`).

Nothing in them depends on the wall clock or the output path: two runs over the same input
write the same bytes.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from ttxt_kafka.archive.naming import stream_name
from ttxt_kafka.matching import MarketKind

from .config import BacktestConfig
from .ledger import EXACT, ZERO
from .runner import Backtest, BacktestStats
from .tracker import SymbolTrack
from .venue import ACCOUNT


def num(value: Decimal | None) -> str:
    """An exact decimal as a plain string without trailing zeros ("" for None)."""
    if value is None:
        return ""
    if not value:
        return "0"
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def iso(ts_us: int) -> str:
    return datetime.fromtimestamp(ts_us / 1e6, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class SymbolResult:
    venue: str
    symbol: str
    base: str
    quote: str
    rules: str  # where the instrument rules came from: configured, recorded, inferred, -
    fills: int
    buys: int
    sells: int
    maker_fills: int
    bought: Decimal
    sold: Decimal
    notional: Decimal
    position: Decimal
    entry_price: Decimal | None
    mark: Decimal | None  # the final mid
    realized: Decimal
    unrealized: Decimal
    fees: dict[str, Decimal]
    fees_value: Decimal
    unvalued_fees: dict[str, Decimal]
    total: Decimal
    chart: str | None = None


@dataclass
class BacktestReport:
    strategy: str
    params: dict[str, str]
    config: BacktestConfig
    stats: BacktestStats
    venues: dict[str, dict[str, Any]]  # venue -> market, fees, balances start/end
    symbols: list[SymbolResult]
    totals: dict[str, dict[str, Decimal]]  # quote asset -> realized, unrealized, fees, total
    open_orders: int
    files: dict[str, str] = field(default_factory=dict)  # what -> file name (in out_dir)
    out_dir: Path | None = None

    def as_dict(self) -> dict[str, Any]:
        s = self.stats
        return {
            "strategy": self.strategy,
            "params": self.params,
            "settings": {
                "latency_us": self.config.latency_us,
                "report_latency_us": self.config.report_latency_us,
                "fill_on_touch": self.config.fill_on_touch,
                "leverage": num(self.config.leverage),
                "sample_us": self.config.sample_us,
                "run_id": self.config.run_id,
            },
            "input": {"events": s.events, "market_events": s.market_events,
                      "skipped": s.skipped, "first": iso(s.first_ts) if s.first_ts else None,
                      "last": iso(s.last_ts) if s.last_ts else None},
            "orders": {"commands": dict(sorted(s.commands.items())), "accepted": s.accepted,
                       "rejected": s.rejected,
                       "reject_reasons": {code: {"count": n, "example": s.reject_examples[code]}
                                          for code, n in s.reject_reasons.most_common()},
                       "open_at_end": self.open_orders},
            "fills": s.fills,
            "derived_events": s.derived,
            "venues": self.venues,
            "symbols": [_symbol_dict(r) for r in self.symbols],
            "totals": {q: {k: num(v) for k, v in t.items()} for q, t in self.totals.items()},
            "files": self.files,
        }

    def text(self) -> str:
        return summary_text(self)


def _symbol_dict(r: SymbolResult) -> dict[str, Any]:
    return {
        "venue": r.venue, "symbol": r.symbol, "instrument_rules": r.rules, "fills": r.fills,
        "buys": r.buys, "sells": r.sells, "maker_fills": r.maker_fills,
        "bought": num(r.bought), "sold": num(r.sold), "volume": num(r.notional),
        "position": num(r.position), "entry_price": num(r.entry_price),
        "mark": num(r.mark), "realized_pnl": num(r.realized),
        "unrealized_pnl": num(r.unrealized), "fees": {a: num(v) for a, v in r.fees.items()},
        "fees_value": num(r.fees_value),
        "unvalued_fees": {a: num(v) for a, v in r.unvalued_fees.items()},
        "total_pnl": num(r.total), "quote": r.quote, "chart": r.chart,
    }


def build_report(bt: Backtest, strategy: str = "", params: dict[str, str] | None = None
                 ) -> BacktestReport:
    symbols: list[SymbolResult] = []
    totals: dict[str, dict[str, Decimal]] = {}
    for (venue_name, symbol), track in sorted(bt.tracker.tracks.items()):
        venue = bt.venues.get(venue_name)
        track.mid = venue.mid(symbol) if venue is not None else track.mid
        result = _symbol_result(track, venue.sources.get(symbol, "-") if venue else "-")
        if not result.fills and result.mark is None:
            continue
        symbols.append(result)
        t = totals.setdefault(result.quote, {"realized": ZERO, "unrealized": ZERO,
                                             "fees": ZERO, "total": ZERO})
        for key, value in (("realized", result.realized), ("unrealized", result.unrealized),
                           ("fees", result.fees_value), ("total", result.total)):
            t[key] = EXACT.add(t[key], value)
    venues: dict[str, dict[str, Any]] = {}
    for name, venue in sorted(bt.venues.items()):
        engine = venue.engine
        if venue.kind is MarketKind.SPOT:
            assets = sorted(set(engine.spot.assets(ACCOUNT)) | set(venue.deposits))
        else:
            assets = sorted({a for (acct, a) in engine.wallets if acct == ACCOUNT}
                            | set(venue.deposits))
        venues[name] = {
            "market": venue.kind.value.lower(),
            "fees": {"maker": num(venue.fees.maker), "taker": num(venue.fees.taker)},
            "balances": {a: {"start": num(venue.deposits.get(a, ZERO)),
                             "end": num(engine.balance(ACCOUNT, a)[0])} for a in assets},
            "default_balances": venue.default_balances,
        }
    open_orders = sum(len(v.engine.open_orders(ACCOUNT)) for v in bt.venues.values())
    return BacktestReport(strategy or type(bt.strategy).__name__, dict(params or {}),
                          bt.config, bt.stats, venues, symbols, totals, open_orders)


def _symbol_result(track: SymbolTrack, rules: str) -> SymbolResult:
    led, mark = track.ledger, track.mid
    return SymbolResult(
        venue=led.venue, symbol=led.symbol, base=led.base, quote=led.quote, rules=rules,
        fills=led.fills, buys=led.buys, sells=led.sells, maker_fills=led.maker_fills,
        bought=led.bought, sold=led.sold, notional=led.notional, position=led.position,
        entry_price=led.entry_price(), mark=mark, realized=led.realized,
        unrealized=led.unrealized(mark), fees=dict(sorted(led.fees.items())),
        fees_value=led.fees_value(mark), unvalued_fees=led.unvalued_fees(mark),
        total=led.total(mark))


# ---------------------------------------------------------------------- files

FILL_COLUMNS = ["time", "ts_us", "venue", "symbol", "side", "price", "qty", "fee", "fee_asset",
                "liquidity", "order_id", "client_order_id", "trade_id", "position",
                "realized_pnl"]
EQUITY_COLUMNS = ["time", "ts_us", "venue", "symbol", "mid", "position", "realized_pnl",
                  "unrealized_pnl", "fees", "total_pnl"]


def write_report(bt: Backtest, report: BacktestReport, out_dir: Path, *,
                 charts: bool = True) -> BacktestReport:
    """Write the files into `out_dir` (created); `report.files` names them. A missing chart
    library is not an error: the rest is written and `report.files["chart_error"]` says why."""
    out_dir.mkdir(parents=True, exist_ok=True)
    tracks = [bt.tracker.tracks[(r.venue, r.symbol)] for r in report.symbols]
    _write_csv(out_dir / "fills.csv", FILL_COLUMNS, _fill_rows(tracks))
    _write_csv(out_dir / "equity.csv", EQUITY_COLUMNS, _equity_rows(tracks))
    report.files = {"fills": "fills.csv", "equity": "equity.csv"}
    if charts:
        from .chart import ChartUnavailable, draw_chart

        for result, track in zip(report.symbols, tracks, strict=True):
            name = f"chart_{stream_name(result.venue, result.symbol)}.png"
            try:
                short = report.strategy.rpartition(":")[2].rpartition(".")[2]
                draw_chart(track, out_dir / name, title=f"{short} — {result.venue} "
                           f"{result.symbol}", summary=result)
            except ChartUnavailable as exc:
                report.files["chart_error"] = str(exc)
                break
            result.chart = name
    report.files["summary"] = "summary.json"
    report.out_dir = out_dir
    (out_dir / "summary.json").write_text(json.dumps(report.as_dict(), indent=2) + "\n")
    return report


def _write_csv(path: Path, columns: list[str], rows: Iterable[list[str]]) -> None:
    with path.open("w", newline="") as fo:
        writer = csv.writer(fo, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)


def _fill_rows(tracks: list[SymbolTrack]) -> Iterable[list[str]]:
    rows = [row for track in tracks for row in track.fills]
    rows.sort(key=lambda r: r.fill.exchange_ts)  # stable: a symbol's own order is kept
    for row in rows:
        f = row.fill
        yield [iso(f.exchange_ts), str(f.exchange_ts), f.venue, f.symbol, f.side.value,
               f.price, f.qty, f.fee, f.fee_currency, "maker" if f.is_maker else "taker",
               f.order_id, f.client_order_id, f.trade_id, num(row.position), num(row.realized)]


def _equity_rows(tracks: list[SymbolTrack]) -> Iterable[list[str]]:
    for track in tracks:
        led = track.ledger
        for s in track.samples:
            yield [iso(s.ts), str(s.ts), led.venue, led.symbol, num(s.mid), num(s.position),
                   num(s.realized), num(s.unrealized), num(s.fees), num(s.total)]


# ---------------------------------------------------------------------- the summary


def _span(first: int | None, last: int | None) -> str:
    if first is None or last is None:
        return ""
    seconds = (last - first) // 1_000_000
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h {m:02d}m {s:02d}s" if h else f"{m}m {s:02d}s"


def _pct(rate: Decimal) -> str:
    return num(EXACT.multiply(rate, Decimal(100))) + "%"


def summary_text(r: BacktestReport) -> str:
    s = r.stats
    first = iso(s.first_ts)[:19].replace("T", " ") if s.first_ts else "-"
    last = iso(s.last_ts)[:19].replace("T", " ") if s.last_ts else "-"
    lines = [f"backtest   {r.strategy}" + (" " + " ".join(f"{k}={v}" for k, v in
                                                          sorted(r.params.items()))
                                            if r.params else ""),
             f"input      {s.events:,} events ({s.market_events:,} market), {first} -> {last} "
             f"UTC ({_span(s.first_ts, s.last_ts)})"]
    venue_bits = [f"{name} {v['market']} maker {_pct(Decimal(v['fees']['maker']))} taker "
                  f"{_pct(Decimal(v['fees']['taker']))}" for name, v in r.venues.items()]
    lines.append(f"settings   latency {r.config.latency_us / 1000:g} ms (reports "
                 f"{r.config.report_latency_us / 1000:g} ms); " + "; ".join(venue_bits))
    commands = sum(s.commands.values())
    by_type = ", ".join(f"{k} {v:,}" for k, v in sorted(s.commands.items()))
    reasons = ", ".join(f"{k} {v:,}: {s.reject_examples[k]}"
                        for k, v in s.reject_reasons.most_common(3))
    lines.append(f"orders     {commands:,} commands ({by_type or 'none'}): {s.accepted:,} "
                 f"accepted, {s.rejected:,} rejected" + (f" ({reasons})" if reasons else "")
                 + (f"; {r.open_orders} still open at the end" if r.open_orders else ""))
    makers = sum(x.maker_fills for x in r.symbols)
    lines.append(f"fills      {s.fills:,} ({makers:,} maker, {s.fills - makers:,} taker)")
    for x in r.symbols:
        fees = " + ".join(f"{num(v)} {a}" for a, v in x.fees.items()) or "0"
        entry = f" @ {num(x.entry_price)}" if x.entry_price is not None else ""
        lines.append(f"{x.venue} {x.symbol}: {x.fills:,} fills ({x.buys:,} buys, {x.sells:,} "
                     f"sells), volume {num(x.notional)} {x.quote}; rules {x.rules}")
        lines.append(f"  position {num(x.position)} {x.base}{entry}, marked at {num(x.mark)} "
                     f"(final mid)")
        lines.append(f"  PnL {x.quote}: realized {num(x.realized)}, unrealized "
                     f"{num(x.unrealized)}, fees {num(x.fees_value)} ({fees}), total "
                     f"{num(x.total)}")
    if len(r.symbols) > 1:
        for quote, t in r.totals.items():
            lines.append(f"total PnL {quote}: realized {num(t['realized'])}, unrealized "
                         f"{num(t['unrealized'])}, fees {num(t['fees'])}, total "
                         f"{num(t['total'])}")
    for name, v in r.venues.items():
        bal = "; ".join(f"{a} {b['start']} -> {b['end']}" for a, b in v["balances"].items())
        note = " (default: no --balance given)" if v["default_balances"] else ""
        lines.append(f"balances   {name}: {bal or 'none'}{note}")
    if r.out_dir is not None:
        where = r.out_dir
        lines.append(f"report     {where / 'fills.csv'}, {where / 'equity.csv'}, "
                     f"{where / 'summary.json'}")
        charts = [str(where / x.chart) for x in r.symbols if x.chart]
        if charts:
            lines.append("chart      " + ", ".join(charts))
        elif "chart_error" in r.files:
            lines.append(f"chart      not drawn: {r.files['chart_error']}")
    return "\n".join(lines)
