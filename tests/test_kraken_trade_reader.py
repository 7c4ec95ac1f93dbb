"""Kraken's compiled trade reader (`connectors/kraken/_trades.c`) against the pattern it
replaces (`trade_fastpath.TradeReader.read_by_pattern`): built by the install, the same events
on every captured push, the same outcome (events or the same error) on every truncation and on
thousands of mutated frames, edge cases of numbers and times, and no leaked references."""

from __future__ import annotations

import random
import sys
from collections.abc import Callable

import pytest
from connector_support import fixture
from memory_support import memory_left_by

from ttxt_kafka.connectors.base.symbols import SymbolMap
from ttxt_kafka.connectors.kraken import trade_fastpath
from ttxt_kafka.connectors.kraken.normalizer_spot import KrakenSpotNormalizer
from ttxt_kafka.events import Side
from ttxt_kafka.simulator import CaptureSource
from ttxt_kafka.venues import venue

RECV = 1_700_000_000_000_000
TRADES = "kraken/live_ws_v1_trade__cryptofeed_KRAKEN.ws.48.0.txt"
ONE = ('{"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"buy",'
       '"price":45283.5,"qty":0.1,"ord_type":"limit","trade_id":7,'
       '"timestamp":"2023-10-06T17:35:55.440295Z"}]}')


def captured_pushes() -> tuple[KrakenSpotNormalizer, list[str]]:
    feed = CaptureSource(fixture(TRADES)).bind(venue("kraken_spot"))
    n = KrakenSpotNormalizer(SymbolMap("kraken_spot", KrakenSpotNormalizer().instruments(
        feed.dialect.instruments_body(None), RECV)))  # type: ignore[attr-defined]
    pushes = [p.text for p in feed.publications  # type: ignore[attr-defined]
              if p.text.startswith(trade_fastpath.PREFIX)]
    return n, pushes


def by_pattern(n: KrakenSpotNormalizer) -> KrakenSpotNormalizer:
    """A second normalizer of the same pairs whose trade text path is the pattern."""
    other = KrakenSpotNormalizer()
    other._places.update(n._places)
    other._names.update(n._names)
    other._read_trades = trade_fastpath.TradeReader(
        other.venue, other._places, (8, 8), other._name).read_by_pattern
    return other


def outcome(call: Callable[[str, int], object], raw: str) -> object:
    try:
        return call(raw, RECV)
    except Exception as exc:  # the same error class, whichever reader ran first
        return type(exc)


def test_the_install_built_the_compiled_reader() -> None:
    assert trade_fastpath.NATIVE, (
        "connectors/kraken/_trades.c was not compiled: `pip install -e .` needs a C compiler "
        "and Python's headers (hatch_build.py says why it failed)")
    n, _ = captured_pushes()
    assert type(n._read_trades).__name__ == "Reader"


def test_every_captured_push_reads_the_same_compiled_and_by_pattern() -> None:
    n, pushes = captured_pushes()
    pattern = by_pattern(n)._read_trades
    assert len(pushes) == 8
    for raw in pushes:
        events = n._read_trades(raw, RECV)
        assert events is not None and events == pattern(raw, RECV)


def _mutations(raw: str, rng: random.Random, count: int) -> list[str]:
    alphabet = '0123456789.,:"{}[]-+eEZTabsuy /\\\n\u00e9'
    out = []
    for _ in range(count):
        text = list(raw)
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            at = rng.randrange(len(text))
            action = rng.randrange(3)
            if action == 0:
                text[at] = rng.choice(alphabet)
            elif action == 1:
                text.insert(at, rng.choice(alphabet))
            else:
                del text[at]
        out.append("".join(text))
    return out


def test_truncated_and_mutated_frames_give_the_same_outcome() -> None:
    """Every prefix of every captured push, and 4,000 random edits: the compiled reader, the
    pattern and the whole normalizer agree (events, None, or the same error class). The one
    difference by design: a push of two symbols, which the compiled reader leaves to the
    decoder."""
    n, pushes = captured_pushes()
    other = by_pattern(n)
    pattern = other._read_trades
    rng = random.Random(18)
    frames = [raw[:k] for raw in pushes for k in range(len(raw))]
    frames += [m for raw in pushes for m in _mutations(raw, rng, 500)]
    taken = 0
    for raw in frames:
        mine, theirs = n._read_trades(raw, RECV), pattern(raw, RECV)
        mixed = theirs is not None and len(theirs) > 1  # left to the decoder, which groups
        assert mine == (None if mixed else theirs), raw
        taken += mine is not None
        assert outcome(n, raw) == outcome(other, raw), raw
    assert taken > 100  # edits of digits and letters that leave a valid push are read too


@pytest.mark.parametrize("price, qty, places, expect", [
    ("45283.5", "0.1", (1, 8), ("45283.5", "0.10000000")),
    ("45283", "2", (2, 0), ("45283.00", "2")),
    ("0", "0.0", (3, 3), ("0.000", "0.000")),
    ("1.2500", "3.000", (2, 0), ("1.25", "3")),  # only zeros beyond the precision: cut
    ("1.251", "3", (2, 0), None),  # a real third decimal: the decoder refuses the frame
    ("01.5", "1", (1, 0), None),  # not a JSON number
    ("1.", "1", (1, 0), None),
    ("1e-7", "1", (8, 0), None),  # valid JSON, not the documented shape: the decoder reads it
    ("-1.5", "1", (1, 0), None),
])
def test_numbers(price: str, qty: str, places: tuple[int, int],
                 expect: tuple[str, str] | None) -> None:
    raw = ONE.replace("45283.5", price).replace('"qty":0.1', f'"qty":{qty}')
    reader = trade_fastpath.TradeReader("kraken_spot", {"BTC/USD": places}, (8, 8), str)
    for read in (reader.read, reader.read_by_pattern):
        got = read(raw, RECV)
        if expect is None:
            assert got is None
        else:
            assert got is not None
            [trade] = got[0].trades  # type: ignore[attr-defined]
            assert (trade.price, trade.qty) == expect


@pytest.mark.parametrize("stamp, expect", [
    ("2023-10-06T17:35:55.440295Z", 1696613755440295),
    ("2024-02-29T00:00:00.000001Z", 1709164800000001),  # a leap day
    ("1970-01-01T00:00:00.000000Z", 0),
    ("0001-01-01T00:00:00.000000Z", -62135596800000000),
    ("2023-10-06T17:35:99.000000Z", 1696613799000000),  # seconds as sent, as the pattern reads
    ("2000-02-29T12:00:00.000000Z", 951825600000000),  # divisible by 400: a leap year
    ("2023-02-29T00:00:00.000000Z", None),  # no such day: the decoder refuses the frame
    ("2100-02-29T00:00:00.000000Z", None),  # divisible by 100, not by 400: no leap day
    ("2023-04-31T00:00:00.000000Z", None),
    ("2023-13-01T00:00:00.000000Z", None),
    ("2023-10-06T24:00:00.000000Z", None),
    ("2023-10-06T17:60:00.000000Z", None),
    ("0000-01-01T00:00:00.000000Z", None),
    ("2023-10-06T17:35:55.44029Z", None),  # five digits of µs: not the documented shape
    ("2023-10-06T17:35:55.440295+00:00", None),
])
def test_times(stamp: str, expect: int | None) -> None:
    raw = ONE.replace("2023-10-06T17:35:55.440295Z", stamp)
    reader = trade_fastpath.TradeReader("kraken_spot", {"BTC/USD": (1, 8)}, (8, 8), str)
    for read in (reader.read, reader.read_by_pattern):
        got = read(raw, RECV)
        assert (got if got is None else got[0].exchange_ts) == expect  # type: ignore[attr-defined]


def test_a_push_of_two_symbols_is_grouped_by_the_decoder() -> None:
    second = ONE[ONE.index("[") + 1:-2].replace("BTC/USD", "ETH/USD").replace('"trade_id":7',
                                                                              '"trade_id":8')
    raw = ONE[:-2] + "," + second + "]}"
    n = KrakenSpotNormalizer({"BTC/USD": "BTC/USD", "ETH/USD": "ETH/USD"})
    assert n._read_trades(raw, RECV) is None  # the compiled reader leaves it to the decoder
    events = n(raw, RECV)
    assert [(e.native_symbol, len(e.trades)) for e in events] == [  # type: ignore[attr-defined]
        ("BTC/USD", 1), ("ETH/USD", 1)]
    assert events == by_pattern(n)(raw, RECV)


def test_bad_arguments_are_type_errors_not_crashes() -> None:
    reader = trade_fastpath.TradeReader("kraken_spot", {"BTC/USD": (1, 8)}, (8, 8), str).read
    with pytest.raises(TypeError):
        reader(ONE.encode(), RECV)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        reader(ONE)  # type: ignore[call-arg]
    broken = trade_fastpath.TradeReader("kraken_spot", {"BTC/USD": "1,8"},  # type: ignore[dict-item]
                                        (8, 8), str).read
    with pytest.raises(TypeError, match="places"):
        broken(ONE, RECV)


def test_no_reference_or_memory_is_leaked() -> None:
    n, pushes = captured_pushes()
    frames = pushes + [pushes[0][:-5], pushes[0].replace('"price":', '"price":-'),
                       ONE.replace("45283.5", "45283.55")]  # refused, None and read paths

    def run() -> None:
        for raw in frames:
            n._read_trades(raw, RECV)

    def counts() -> tuple[int, ...]:
        return sys.getrefcount(Side.BUY), sys.getrefcount(Side.SELL), sys.getrefcount(n.venue)

    memory_left_by(run, warm_up=200, times=0)
    refs = counts()
    grown = memory_left_by(run, warm_up=0, times=5_000)
    assert grown < 64_000, grown  # 55,000 calls: a leak of one object each would be MBs
    assert counts() == refs
