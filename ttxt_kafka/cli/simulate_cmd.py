"""`ttxt simulate`: run the exchange simulator for one venue until Ctrl-C.

    ttxt simulate --venue binance --synthetic --symbols BTCUSDT,ETHUSDT --rate 50
    ttxt simulate --venue bybit_linear --capture ../shared/fixtures/bybit/live_v5_...BYBIT.jsonl
    ttxt simulate --venue binance --synthetic --trading --balance USDT=10000 --balance BTC=1

`--trading` adds the private side (orders, user data): requests must be signed with the key in
TTXT_<VENUE>_API_KEY / TTXT_<VENUE>_API_SECRET, as a connector configured for that venue sends.

It prints the WS and REST base URLs to point a connector at, then serves until interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from typing import Any

from ttxt_kafka import venues
from ttxt_kafka.simulator import CaptureSource, Simulator, Source, SyntheticSource


def _speed(text: str) -> float | None:
    if text == "max":
        return None
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be 'max' or a positive number")
    return value


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "simulate",
        help="serve an exchange's WS/REST protocol from a capture or a synthetic market",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    add_arguments(p)
    p.set_defaults(func=run)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--venue", required=True, choices=venues.names())
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--capture",
        action="append",
        metavar="PATH",
        help="cryptofeed capture file (repeatable; v1 sibling REST files are found automatically)",
    )
    src.add_argument("--synthetic", action="store_true", help="seeded synthetic market")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 = any free port (default)")
    p.add_argument(
        "--speed",
        type=_speed,
        default=None,
        help="capture replay: 'max' (default) or a factor of the recorded pace",
    )
    p.add_argument("--seed", type=int, default=0, help="synthetic market seed")
    p.add_argument("--symbols", default="BTCUSDT,ETHUSDT",
                   help="synthetic market symbols (each venue writes them its own way: "
                   "BTCUSDT is Kraken's BTC/USDT, OKX's BTC-USDT)")
    p.add_argument(
        "--rate",
        type=_speed,
        default=20.0,
        help="synthetic updates per second per symbol, or 'max' (default 20)",
    )
    p.add_argument(
        "--max-steps", type=int, default=None, help="synthetic: stop after N updates per symbol"
    )
    p.add_argument("--trading", action="store_true",
                   help="serve the private side too (key from TTXT_<VENUE>_API_KEY/_SECRET)")
    p.add_argument("--balance", action="append", default=[], metavar="ASSET=AMOUNT",
                   help="--trading: a starting balance (repeatable; default a large float)")


def build_source(args: argparse.Namespace) -> Source:
    if args.capture:
        return CaptureSource(*args.capture, speed=args.speed)
    symbols = [s.strip().upper() for s in args.symbols.split(",") if s.strip()]
    return SyntheticSource(
        seed=args.seed, symbols=symbols, rate=args.rate, max_steps=args.max_steps
    )


def build_trading(args: argparse.Namespace) -> Any:
    """The private side's settings (None without --trading); bad input is a ValueError."""
    if not args.trading:
        return None
    from decimal import Decimal, InvalidOperation

    from ttxt_kafka.credentials import CredentialsError, load_credentials
    from ttxt_kafka.simulator.trading import TradingSettings

    try:
        credentials = load_credentials(args.venue)
    except CredentialsError as exc:
        raise ValueError(str(exc)) from None
    if not args.balance:
        return TradingSettings(credentials)
    balances = {}
    for item in args.balance:
        asset, _, amount = item.partition("=")
        try:
            balances[asset.strip().upper()] = Decimal(amount)
        except InvalidOperation:
            raise ValueError(f"--balance {item!r}: use ASSET=AMOUNT, e.g. USDT=10000") from None
    return TradingSettings(credentials, balances=balances)


async def _serve(args: argparse.Namespace) -> None:
    sim = Simulator(args.venue, build_source(args), host=args.host, port=args.port,
                    trading=build_trading(args))
    await sim.start()
    print(f"simulating {sim.venue} from {sim.feed.kind} source", flush=True)
    print(f"WS   {sim.ws_url}   (e.g. {sim.ws_endpoint})", flush=True)
    print(f"REST {sim.rest_url}", flush=True)
    print(f"control {sim.rest_url}/_sim/state  (POST /_sim/fault)", flush=True)
    if sim.private is not None:
        print(f"trading account {sim.exchange.account}: {len(sim.exchange.instruments)} "
              "instruments", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not on Windows
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await sim.stop()


def run(args: argparse.Namespace) -> int:
    try:
        asyncio.run(_serve(args))
    except (OSError, ValueError) as exc:  # port in use, unreadable capture, bad symbols
        print(f"ttxt: error: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """Standalone entry (`python -m ttxt_kafka.cli.simulate_cmd`), same arguments."""
    parser = argparse.ArgumentParser(prog="ttxt simulate", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
