"""The layout's promises, checked on the source: one home per exchange, the core apart from the
app, one import namespace in the wheel, and a registry that names what a venue lacks."""

from __future__ import annotations

import ast
import subprocess
import sys
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from ttxt_kafka import venues
from ttxt_kafka.venues import ClientIdRule, Fees, Heartbeat, Market, Part, VenueError, VenueSpec

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("ttxt_kafka", "connectors", "recorder", "replayer", "strategies", "simulator")


def _source_files() -> list[Path]:
    """The product's code outside any exchange's own folder (tests and benchmarks aside)."""
    exchange_dirs = [ROOT / "connectors" / ex for ex in venues.exchanges()]
    out = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.is_symlink() or any(p.is_symlink() for p in path.parents if p != ROOT):
                continue  # ttxt_kafka/<name> links to the top-level folders, read once there
            if not any(d in path.parents for d in exchange_dirs):
                out.append(path)
    return out


def _named_literals(tree: ast.AST, names: set[str]) -> list[tuple[int, str]]:
    """String constants equal to a venue or exchange name where code decides by them: in a
    comparison (==, !=, in, match case) or as a key of a literal dict."""
    found = []
    for node in ast.walk(tree):
        values: list[ast.expr] = []
        if isinstance(node, ast.Compare):
            for operand in (node.left, *node.comparators):
                values.extend(operand.elts if isinstance(operand, ast.Tuple | ast.List | ast.Set)
                              else [operand])
        elif isinstance(node, ast.Dict):
            values.extend(k for k in node.keys if k is not None)
        elif isinstance(node, ast.MatchValue):
            values.append(node.value)
        found.extend((v.lineno, v.value) for v in values
                     if isinstance(v, ast.Constant) and v.value in names)
    return found


def test_no_code_outside_an_exchange_folder_decides_by_a_venue_name() -> None:
    names = set(venues.names()) | set(venues.exchanges())
    offenders = [f"{path.relative_to(ROOT)}:{line}: {value!r}"
                 for path in _source_files()
                 for line, value in _named_literals(ast.parse(path.read_text()), names)]
    assert offenders == [], "decide through the venue registry instead:\n" + "\n".join(offenders)


def test_the_check_catches_a_branch_on_a_venue_name() -> None:
    code = 'if venue == "bybit_spot": pass\nx = v in ("binance", "okx")\nd = {"bybit": 1}'
    assert [v for _, v in _named_literals(ast.parse(code), {"bybit_spot", "binance", "bybit"})] \
        == ["bybit_spot", "binance", "bybit"]


def _imports(tree: ast.AST) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, a.name) for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.lineno, node.module))
    return out


def test_no_code_outside_an_exchange_folder_imports_it() -> None:
    """The rest of the system reaches an exchange only through its VenueSpec's parts."""
    homes = tuple(f"ttxt_kafka.connectors.{ex}" for ex in venues.exchanges())
    offenders = [f"{path.relative_to(ROOT)}:{line}: {module}"
                 for path in _source_files()
                 for line, module in _imports(ast.parse(path.read_text()))
                 if module.startswith(homes)]
    assert offenders == []


def test_the_layering_contract_holds() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


MARKET_DATA = (Part.CONNECTOR, Part.NORMALIZER, Part.SIM_PROTOCOL, Part.SIM_CAPTURE,
               Part.SIM_SYNTHETIC)
TRADING = (Part.GATEWAY, Part.PRIVATE_STREAM, Part.SIM_TRADING)


def test_every_registered_venue_provides_its_parts() -> None:
    """Market data and the simulator's public side always; trading parts all or none (a
    venue without them is market data only: paper trading, no live orders)."""
    for spec in venues.all_venues():
        for part in MARKET_DATA:
            assert spec.part(part) is not None, (spec.name, part)
        trading = [spec.has(p) for p in TRADING]
        assert all(trading) or not any(trading), (spec.name, trading)
        for part in TRADING:
            if spec.has(part):
                assert spec.part(part) is not None, (spec.name, part)


def test_live_trading_needs_the_trading_parts(fake_venue: VenueSpec) -> None:
    from ttxt_kafka.connectors.config import ConfigError, parse_config

    base = {"venue": "fakex_spot", "symbols": ["BTC/USDT"], "streams": {"book": True}}
    assert parse_config({"connectors": [{**base, "trading": {"mode": "paper"}}]})
    with pytest.raises(ConfigError, match="fakex_spot has no live trading"):
        parse_config({"connectors": [{**base, "trading": {"mode": "live"}}]})


# ------------------------------------------------------------------ a new exchange, minimal

FAKE = VenueSpec(
    name="fakex_spot", exchange="fakex", market=Market.SPOT, category="spot",
    book_depths=(50,), default_depth=50, fees=Fees(Decimal("0.001"), Decimal("0.002")),
    client_ids=ClientIdRule(pattern=r"[a-z0-9]{1,20}", allowed="1-20 of a-z and 0-9"),
    kline_intervals=("1m",), heartbeat=Heartbeat(client_ping=15.0), public_ws_path="/ws")


@pytest.fixture
def fake_venue() -> object:
    venues.register(FAKE)
    yield FAKE
    venues.unregister(FAKE.name)


def test_a_registered_venue_is_known_everywhere(fake_venue: VenueSpec) -> None:
    from ttxt_kafka.connectors.config import parse_config
    from ttxt_kafka.orders.client_ids import client_order_id_problem
    from ttxt_kafka.strategies.backtest.config import BacktestConfig

    assert "fakex_spot" in venues.names() and "fakex" in venues.exchanges()
    config = parse_config({"connectors": [{"venue": "fakex_spot", "symbols": ["BTC/USDT"],
                                           "streams": {"book": True}}]})
    assert config.connectors[0].book_depth == 50  # the spec's default depth
    assert BacktestConfig().fees_of("fakex_spot").taker == Decimal("0.002")
    assert client_order_id_problem("ok1", "fakex") is None
    assert "1-20 of a-z and 0-9" in (client_order_id_problem("Not-OK", "fakex") or "")


@pytest.mark.parametrize("part", list(Part))
def test_a_missing_part_is_a_clear_error(fake_venue: VenueSpec, part: Part) -> None:
    with pytest.raises(VenueError) as err:
        fake_venue.part(part)
    assert str(err.value).startswith(f"venue 'fakex_spot' provides no '{part.value}' part")
    assert "connectors/fakex/venue.py" in str(err.value)


def test_missing_parts_surface_where_they_are_used(fake_venue: VenueSpec) -> None:
    from ttxt_kafka.connectors import connector_class
    from ttxt_kafka.simulator import Simulator, SyntheticSource

    with pytest.raises(VenueError, match="no 'connector' part"):
        connector_class("fakex_spot")
    with pytest.raises(VenueError, match="no 'sim_"):
        Simulator("fakex_spot", SyntheticSource(seed=1, symbols=["BTCUSDT"]))


def test_unknown_venues_and_bad_specs_are_refused() -> None:
    with pytest.raises(VenueError, match="unknown venue 'nope'; known venues: binance"):
        venues.venue("nope")
    with pytest.raises(VenueError, match="unknown parts"):
        VenueSpec(**{**FAKE.__dict__, "parts": {"conector": "x:y"}})
    with pytest.raises(VenueError, match="default depth 7"):
        VenueSpec(**{**FAKE.__dict__, "default_depth": 7})
    with pytest.raises(VenueError, match="registered already"):
        venues.register(VenueSpec(**{**FAKE.__dict__, "name": "binance"}))


def test_the_wheel_holds_ttxt_kafka_only(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w",
                    str(tmp_path), str(ROOT)], check=True, timeout=300)
    (wheel,) = tmp_path.glob("ttxt_kafka-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top == {"ttxt_kafka"}
    for module in ("connectors/binance/venue.py", "simulator/server.py", "recorder/service.py",
                   "replayer/api.py", "strategies/app.py", "archive/ocf.py", "venues.py"):
        assert f"ttxt_kafka/{module}" in names
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "[ttxt_kafka.venues]" in text and "ttxt_kafka.connectors.bybit.venue:VENUES" in text


def venue_table() -> str:
    def pct(rate: Decimal) -> str:
        return f"{(rate * 100).normalize():f} %"

    rows = ["| venue | exchange | market | book depths (default) | maker / taker | klines | "
            "heartbeat | trading |", "|---|---|---|---|---|---|---|---|"]
    for s in venues.all_venues():
        depths = ", ".join(f"**{d or 'whole book'}**" if d == s.default_depth
                           else str(d or "whole book") for d in s.book_depths)
        depths = "whole book" if s.book_depths == (0,) else depths  # 0: the stream is the book
        beat = (f"server pings every {s.heartbeat.server_ping:g} s" if s.heartbeat.server_ping
                else f"server heartbeats every {s.heartbeat.server_heartbeat:g} s"
                if s.heartbeat.server_heartbeat
                else f"client pings every {s.heartbeat.client_ping:g} s")
        trading = "live, paper" if s.has(Part.GATEWAY) else "paper"
        rows.append(f"| `{s.name}` | {s.exchange} | {s.market.value} | {depths} | "
                    f"{pct(s.fees.maker)} / {pct(s.fees.taker)} | {' '.join(s.kline_intervals)} "
                    f"| {beat} | {trading} |")
    return "\n".join(rows)


def test_the_readme_venue_table_matches_the_registry() -> None:
    assert venue_table() in (ROOT / "README.md").read_text(encoding="utf-8"), venue_table()
