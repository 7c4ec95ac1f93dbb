"""`ttxt order ...` and `ttxt orders VENUE`: order commands onto a venue's orders topic, and what
comes back on its executions and account topics.

    ttxt order buy binance BTC/USDT 0.01 --limit 60000.1 --tif GTC --post-only
    ttxt order sell bybit_linear BTC/USDT 0.01                # market
    ttxt order cancel binance BTC/USDT --client-id my-1
    ttxt order amend binance BTC/USDT --client-id my-1 --price 60001 --qty 0.02
    ttxt order cancel-all binance [BTC/USDT]
    ttxt orders binance [--sync]                              # open orders, wallet, executions

`order` writes one command (keyed by symbol) and prints, one JSON object per line, its ack and
the order updates and fills of its order, until the order is finished or `--follow` seconds
after the ack; exit 0 when accepted (or not sent: trading mode off), 1 when rejected, 2 when no
ack came within `--timeout` (is a connector with `trading:` running for the venue?); 130 / 143
when Ctrl-C / SIGTERM stops it, after saying whether the command was sent and what is known of it.
Every command carries an expiry (`--expires`, default: the ack timeout): a connector never sends
it after that (it acks it REJECTED `expired`), so a command reported unanswered cannot execute
later. Quantities and prices are checked here first: positive plain decimals (0.01, 60000.5).
`orders` reads the executions and account topics back (`--since` minutes); `--sync` first asks
the connector for a fresh REST snapshot (an `AccountSync` command) and waits for it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import signal
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from ..admin import TopicNotFound, cluster_metadata, records_since
from ..bus.kafka_queue import KafkaUnavailableError, fetch_writer_schema, start_with_retry
from ..cluster import client_options
from ..codec import DEFAULT_CODEC, CodecError
from ..events import (
    AckStatus,
    AmendOrder,
    CancelAllOrders,
    CancelOrder,
    CreateOrder,
    Event,
    Fill,
    OrderAck,
    OrderStatus,
    OrderType,
    OrderUpdate,
    PositionUpdate,
    Side,
    TimeInForce,
    Wallet,
    now_us,
)
from ..render import event_to_dict
from ..topics import DEFAULT_PREFIX, topic, topic_for
from .common import CliError, add_bootstrap_arg, resolve_bootstrap, until_stopped

if TYPE_CHECKING:
    from ..bus import KafkaQueue

FINISHED = frozenset({OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED,
                      OrderStatus.EXPIRED})
OPEN = frozenset({OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED})


def _common(p: argparse.ArgumentParser) -> None:
    add_bootstrap_arg(p)
    p.add_argument("--prefix", default=DEFAULT_PREFIX, help="topic prefix (default ttxt)")
    p.add_argument("--timeout", type=float, default=15.0, metavar="S",
                   help="seconds to wait for the ack, and for Kafka to answer (default 15)")
    p.add_argument("--expires", type=_seconds, default=None, metavar="S",
                   help="seconds from now after which no connector may send the command "
                        "(default: --timeout, so an unanswered command never executes later)")
    p.add_argument("--follow", type=float, default=2.0, metavar="S",
                   help="seconds to keep printing the order's updates after the ack (default 2)")


def _ref(p: argparse.ArgumentParser) -> None:
    ref = p.add_mutually_exclusive_group(required=True)
    ref.add_argument("--client-id", metavar="ID")
    ref.add_argument("--order-id", metavar="ID")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    order = sub.add_parser("order", help="send an order command and print what comes back",
                           description=__doc__.splitlines()[0] if __doc__ else None)
    kinds = order.add_subparsers(dest="kind", metavar="KIND", required=True)
    for side in ("buy", "sell"):
        p = kinds.add_parser(side, help=f"{side} (limit with --limit, else market)")
        p.add_argument("venue")
        p.add_argument("symbol")
        p.add_argument("qty", type=_positive_decimal)
        p.add_argument("--limit", metavar="PRICE", type=_positive_decimal,
                       help="limit price (default: market order)")
        p.add_argument("--tif", choices=["GTC", "IOC", "FOK"], default="GTC")
        p.add_argument("--post-only", action="store_true")
        p.add_argument("--reduce-only", action="store_true")
        p.add_argument("--client-id", metavar="ID", default="",
                       help="client order id (default: derived from the command id)")
        p.add_argument("--take-profit", metavar="PRICE", type=_positive_decimal)
        p.add_argument("--stop-loss", metavar="PRICE", type=_positive_decimal)
        _common(p)
        p.set_defaults(func=run_order)
    p = kinds.add_parser("cancel", help="cancel one order")
    p.add_argument("venue")
    p.add_argument("symbol")
    _ref(p)
    _common(p)
    p.set_defaults(func=run_order)
    p = kinds.add_parser("amend", help="new price and/or quantity for an open order")
    p.add_argument("venue")
    p.add_argument("symbol")
    _ref(p)
    p.add_argument("--price", metavar="PRICE", type=_positive_decimal)
    p.add_argument("--qty", metavar="QTY", type=_positive_decimal)
    _common(p)
    p.set_defaults(func=run_order)
    p = kinds.add_parser("cancel-all", help="cancel every open order (of a symbol)")
    p.add_argument("venue")
    p.add_argument("symbol", nargs="?", default="")
    _common(p)
    p.set_defaults(func=run_order)

    p = sub.add_parser("orders", help="a venue's open orders, wallet and recent executions")
    p.add_argument("venue")
    add_bootstrap_arg(p)
    p.add_argument("--prefix", default=DEFAULT_PREFIX)
    p.add_argument("--since", type=float, default=1440.0, metavar="MINUTES",
                   help="read the topics back this far (default 1440: one day)")
    p.add_argument("--executions", type=int, default=10, metavar="N",
                   help="recent executions to show (default 10)")
    p.add_argument("--sync", action="store_true",
                   help="ask the connector for a REST snapshot first and wait for it")
    p.add_argument("--timeout", type=float, default=15.0, metavar="S")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=run_orders)


# ====================================================================== commands

_PLAIN_DECIMAL = re.compile(r"\d+(\.\d+)?|\.\d+")


def _positive_decimal(text: str) -> str:
    """A quantity or price as typed: a positive plain decimal (no sign, exponent or NaN)."""
    if not _PLAIN_DECIMAL.fullmatch(text) or Decimal(text) <= 0:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a positive plain decimal (like 0.01 or 60000.5)")
    return text


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


def expiry_seconds(args: argparse.Namespace) -> float:
    return float(args.expires if args.expires is not None else args.timeout)


def build_command(args: argparse.Namespace, command_id: str) -> Event:
    ts = now_us()
    header: dict[str, Any] = {"venue": args.venue, "symbol": args.symbol, "exchange_ts": ts,
                              "receive_ts": ts, "command_id": command_id,
                              "expires_ts": ts + int(expiry_seconds(args) * 1_000_000)}
    if args.kind in ("buy", "sell"):
        return CreateOrder(
            **header, client_order_id=args.client_id, side=Side(args.kind.upper()),
            order_type=OrderType.LIMIT if args.limit else OrderType.MARKET,
            time_in_force=TimeInForce(args.tif), post_only=args.post_only,
            reduce_only=args.reduce_only, qty=args.qty, price=args.limit,
            take_profit=args.take_profit, stop_loss=args.stop_loss)
    if args.kind == "cancel":
        return CancelOrder(**header, client_order_id=args.client_id, order_id=args.order_id)
    if args.kind == "amend":
        if args.price is None and args.qty is None:
            raise CliError("amend needs --price and/or --qty")
        return AmendOrder(**header, client_order_id=args.client_id, order_id=args.order_id,
                          new_price=args.price, new_qty=args.qty)
    return CancelAllOrders(**header)


def run_order(args: argparse.Namespace) -> int:
    bootstrap = resolve_bootstrap(args.bootstrap)
    command = build_command(args, f"cli-{uuid.uuid4().hex[:24]}")
    run = _OrderRun(args, command, _client_order_id(command))
    try:
        code, stopped = asyncio.run(until_stopped(_order(bootstrap, run)))
    except KeyboardInterrupt:  # before the loop took the signal over, or after it gave it back
        stopped, code = signal.SIGINT, None
    except KafkaUnavailableError as exc:  # raised by a client's start: before any publish
        raise CliError(f"{exc} Nothing was sent.") from None
    run.skipped.note("order")
    if stopped or code is None:
        print(run.stopped(stopped or signal.SIGINT), file=sys.stderr)
        return 128 + (stopped or signal.SIGINT)
    return code


@dataclass
class _OrderRun:
    """What `ttxt order` knows of its command: told to the user when a signal stops it."""

    args: argparse.Namespace
    command: Event
    cid: str | None
    queue: KafkaQueue | None = None  # the queue that took the command (its counters)
    ack: OrderAck | None = None
    last: OrderUpdate | None = None  # the order's last update seen
    fills: int = 0
    skipped: _Skipped = field(default_factory=lambda: _Skipped())

    def stopped(self, signum: int) -> str:
        """Whether the command was sent, and what is known of it."""
        args, command = self.args, self.command
        command_id = command.command_id  # type: ignore[attr-defined]
        head = f"ttxt order: stopped by {signal.Signals(signum).name}"
        stats = self.queue.stats if self.queue is not None else None
        where = topic_for(command, args.prefix)
        if stats is None or not stats.published:
            return f"{head} before the command was sent: nothing was sent."
        if not stats.acknowledged:
            if stats.lost:
                return (f"{head}: the command {command_id} could not be delivered to Kafka "
                        f"({where}): it will not execute.")
            return "\n".join([f"{head} before Kafka confirmed the command {command_id}: it "
                              f"may have reached {where}.",
                              *_can_it_execute(args, command, self.cid)])
        if self.ack is None:
            return "\n".join([f"{head} while waiting for the ack: the command {command_id} was "
                              f"sent to {where}; no ack seen yet.",
                              *_can_it_execute(args, command, self.cid)])
        ack = self.ack
        line = f"{head}: the command {command_id} was sent and acked {ack.status.value}"
        if ack.reason:
            line += f" ({ack.reason})"
        last = self.last
        if last is not None:
            line += (f"; its order {last.client_order_id} was last seen {last.status.value}, "
                     f"filled {last.filled_qty} of {last.qty}")
        if self.fills:
            line += f" ({self.fills} fill(s) printed)"
        lines = [line + "."]
        finished = last is not None and last.status in FINISHED
        if (ack.status is AckStatus.ACCEPTED and isinstance(command, CreateOrder)
                and not finished and self.cid):
            lines.append(f"  It may still be open: `ttxt orders {args.venue}` shows it; "
                         f"`ttxt order cancel {args.venue} {args.symbol} --client-id "
                         f"{self.cid}` cancels it.")
        return "\n".join(lines)


def _client_order_id(command: Event) -> str | None:
    """The client order id the command's order has (a create's is derived when not given)."""
    if isinstance(command, CreateOrder):
        if command.client_order_id:
            return command.client_order_id
        from ttxt_kafka import venues
        from ttxt_kafka.orders.client_ids import client_order_id_for

        spec = venues.find(command.venue)
        return client_order_id_for(command.command_id,
                                   exchange=spec.exchange if spec is not None else None)
    return getattr(command, "client_order_id", None) or None


async def _order(bootstrap: str, run: _OrderRun) -> int:
    from ..bus import KafkaQueue

    args, command = run.args, run.command
    command_id = command.command_id  # type: ignore[attr-defined]
    executions = topic(args.venue, "executions", args.prefix)
    async with _Watch(bootstrap, executions, run.skipped, args.timeout) as watch:
        queue = run.queue = KafkaQueue(bootstrap, prefix=args.prefix,
                                       connect_timeout=args.timeout)
        try:
            await queue.start()
            await queue.publish(command)
            await queue.flush()
        finally:  # stopped meanwhile: stop() still delivers the command (or declares it lost)
            await queue.stop()
        deadline = [time.monotonic() + args.timeout]  # moved on once the ack is in
        async for event in watch.events(lambda: deadline[0]):
            if isinstance(event, OrderAck) and event.command_id == command_id:
                ack = run.ack = event
                _print(event)
                run.cid = run.cid or event.client_order_id
                if ack.status is not AckStatus.ACCEPTED or isinstance(command, CancelAllOrders):
                    break
                deadline[0] = time.monotonic() + args.follow
            elif (isinstance(event, OrderUpdate | Fill) and run.cid
                  and event.client_order_id == run.cid):
                _print(event)
                if isinstance(event, Fill):
                    run.fills += 1
                else:
                    run.last = event
                if isinstance(event, OrderUpdate) and event.status in FINISHED and run.ack:
                    # its last fill may follow the final update: a moment for it, then done
                    deadline[0] = min(deadline[0], time.monotonic() + 0.5)
    if run.ack is None:
        print(_no_ack(args, command, run.cid), file=sys.stderr)
        return 2
    return 1 if run.ack.status is AckStatus.REJECTED else 0


def _no_ack(args: argparse.Namespace, command: Event, cid: str | None) -> str:
    """What a user needs after a timeout: can the command still execute, until when, and how
    to make sure it does not."""
    head = (f"ttxt: error: no ack for {command.command_id}"  # type: ignore[attr-defined]
            f" within {args.timeout:g}s: is a connector with `trading:` running for "
            f"{args.venue} (prefix {args.prefix})?")
    return "\n".join([head, *_can_it_execute(args, command, cid)])


def _can_it_execute(args: argparse.Namespace, command: Event, cid: str | None) -> list[str]:
    """A command sent and not answered: can it still execute, until when, and how to make
    sure it does not."""
    expires_ts = getattr(command, "expires_ts", None) or 0
    until = datetime.fromtimestamp(expires_ts / 1e6, UTC).strftime("%H:%M:%S UTC")
    left = expires_ts / 1e6 - time.time()
    if left <= 0:
        return [f"  It expired at {until}: a connector that gets it later will not send "
                "it (it acks it REJECTED expired). It will not execute; retrying is safe."]
    lines = [f"  It can still execute until {until} (in {left:.0f}s, its --expires) "
             "if a connector picks it up."]
    if isinstance(command, CreateOrder) and cid:
        lines.append(f"  To make sure it will not: ttxt order cancel {args.venue} "
                     f"{args.symbol} --client-id {cid} --expires {int(left) + 60}  "
                     f"(or wait until {until} before retrying)")
    else:
        lines.append(f"  To make sure it will not, wait until {until} before retrying.")
    return lines


def _print(event: Event) -> None:
    print(json.dumps(event_to_dict(event), separators=(",", ":")), flush=True)


class _Skipped:
    """Records read back that did not decode (garbage, a schema this ttxt does not know, a
    registry that cannot be asked): skipped, but counted and said — one of them may have
    been the answer waited for."""

    def __init__(self) -> None:
        self.count = 0
        self.first = ""

    async def decode(self, topic_name: str, partition: int, offset: int,
                     value: bytes | None) -> Event | None:
        await fetch_writer_schema(DEFAULT_CODEC, value)  # a Confluent id: off the loop
        try:
            return DEFAULT_CODEC.decode(value or b"")
        except CodecError as exc:
            self.count += 1
            self.first = self.first or f"{topic_name}[{partition}]@{offset}: {exc}"
            return None

    def note(self, command: str) -> None:
        if self.count:
            print(f"ttxt {command}: {self.count} record(s) that did not decode were skipped "
                  f"(first: {self.first})", file=sys.stderr)


class _Watch:
    """New records of a topic (all partitions, from its end when entered), decoded."""

    def __init__(self, bootstrap: str, name: str, skipped: _Skipped,
                 connect_timeout: float) -> None:
        self.name = name
        self.skipped = skipped
        self.bootstrap = bootstrap
        self.connect_timeout = connect_timeout
        self.consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                         **client_options())

    async def __aenter__(self) -> _Watch:
        # KafkaUnavailableError after connect_timeout (the broker away): a one-line error
        await start_with_retry(self.consumer, self.bootstrap, self.connect_timeout)
        try:
            metadata = await cluster_metadata(self.consumer)
            partitions = metadata.partitions_for_topic(self.name)
            if not partitions:
                raise CliError(f"topic {self.name!r} does not exist: start the venue's "
                               "connector with `trading:` first")
            tps = [TopicPartition(self.name, p) for p in sorted(partitions)]
            self.consumer.assign(tps)
            await self.consumer.seek_to_end(*tps)
            for tp in tps:
                await self.consumer.position(tp)  # fixed now: what comes after is seen
        except BaseException:  # a CliError, or stopped by a signal: closed all the same
            await self.consumer.stop()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.consumer.stop()

    async def events(self, deadline: Callable[[], float]) -> AsyncIterator[Event]:
        while time.monotonic() < deadline():
            batches = await self.consumer.getmany(timeout_ms=100)
            for records in batches.values():
                for r in records:
                    event = await self.skipped.decode(r.topic, r.partition, r.offset, r.value)
                    if event is not None:
                        yield event


# ====================================================================== orders VENUE


def run_orders(args: argparse.Namespace) -> int:
    bootstrap = resolve_bootstrap(args.bootstrap)
    asked: list[str] = []  # the AccountSync command sent, if any
    skipped = _Skipped()
    try:
        code, stopped = asyncio.run(until_stopped(_orders(bootstrap, args, asked, skipped)))
    except KeyboardInterrupt:  # before the loop took the signal over
        stopped, code = signal.SIGINT, None
    except KafkaUnavailableError as exc:
        raise CliError(str(exc)) from None
    skipped.note("orders")
    if stopped or code is None:
        sig = signal.Signals(stopped or signal.SIGINT)
        what = (f"the AccountSync request {asked[0]} was sent (the connector answers it "
                "anyway); nothing shown" if asked else "nothing shown")
        print(f"ttxt orders: stopped by {sig.name}: {what}.", file=sys.stderr)
        return 128 + sig
    return code


async def _orders(bootstrap: str, args: argparse.Namespace, asked: list[str],
                  skipped: _Skipped) -> int:
    account_topic = topic(args.venue, "account", args.prefix)
    if args.sync:
        from ttxt_kafka.connectors.trading.sync_command import AccountSync

        from ..bus import KafkaQueue

        since = now_us()
        async with _Watch(bootstrap, account_topic, skipped, args.timeout) as watch:
            command_id = f"cli-{uuid.uuid4().hex[:24]}"
            async with KafkaQueue(bootstrap, prefix=args.prefix,
                                  connect_timeout=args.timeout) as queue:
                await queue.publish(AccountSync(venue=args.venue, symbol="", exchange_ts=since,
                                                receive_ts=since, command_id=command_id))
                await queue.flush()
            asked.append(command_id)
            until = time.monotonic() + args.timeout
            synced = False
            async for event in watch.events(lambda: until):
                if isinstance(event, Wallet) and event.is_snapshot and event.receive_ts >= since:
                    synced = True
                    break
        if not synced:
            print(f"ttxt: error: no account snapshot within {args.timeout:g}s: is a connector "
                  f"with `trading:` running for {args.venue}?", file=sys.stderr)
            return 2
    since_ms = int(time.time() * 1000 - args.since * 60_000)
    executions = await _read_back(bootstrap, topic(args.venue, "executions", args.prefix),
                                  since_ms, skipped)
    account = await _read_back(bootstrap, account_topic, since_ms, skipped)
    state = _state(executions, account)
    if args.json:
        for event in [*state["open"], *state["wallets"], *state["positions"],
                      *executions[-args.executions:]]:
            _print(event)
        return 0
    _show(state, executions[-args.executions:])
    return 0


def _state(executions: list[Event], account: list[Event]) -> dict[str, list[Any]]:
    latest: dict[str, OrderUpdate] = {}
    for event in executions:
        if isinstance(event, OrderUpdate) and event.client_order_id:
            latest[event.client_order_id] = event
    wallets: dict[str, Wallet] = {}
    balances: dict[str, Any] = {}
    for event in account:
        if isinstance(event, Wallet):
            if event.is_snapshot:
                balances = {}
            balances.update({b.asset: b for b in event.balances})
            wallets = {"": Wallet(venue=event.venue, symbol="", exchange_ts=event.exchange_ts,
                                  receive_ts=event.receive_ts, account_type=event.account_type,
                                  balances=list(balances.values()), is_snapshot=True)}
    positions: dict[str, PositionUpdate] = {}
    for event in account:
        if isinstance(event, PositionUpdate):
            positions[event.symbol] = event
    return {"open": [u for u in latest.values() if u.status in OPEN],
            "wallets": list(wallets.values()),
            "positions": [p for p in positions.values() if p.size and float(p.size) != 0]}


def _show(state: dict[str, list[Any]], recent: list[Event]) -> None:
    opened: list[OrderUpdate] = state["open"]
    print(f"open orders ({len(opened)}):")
    for u in opened:
        price = f" @ {u.price}" if u.price else ""
        print(f"  {u.symbol} {u.side.value} {u.order_type.value} {u.qty}{price} filled "
              f"{u.filled_qty} {u.status.value}  client_order_id={u.client_order_id} "
              f"order_id={u.order_id}")
    for w in state["wallets"]:
        print("wallet:")
        for b in w.balances:
            locked = f" locked {b.locked}" if b.locked else ""
            print(f"  {b.asset}: total {b.total} available {b.available}{locked}")
    if state["positions"]:
        print("positions:")
        for p in state["positions"]:
            print(f"  {p.symbol} {p.side.value} {p.size} entry {p.entry_price} "
                  f"unrealized {p.unrealized_pnl}")
    print(f"recent executions ({len(recent)}):")
    for event in recent:
        print("  " + json.dumps(event_to_dict(event), separators=(",", ":")))


async def _read_back(bootstrap: str, name: str, since_ms: int,
                     skipped: _Skipped) -> list[Event]:
    """The topic's records from `since_ms` to its current end, decoded, in time order."""
    out: list[tuple[int, int, Event]] = []
    try:
        async for r in records_since(bootstrap, name, since_ms):
            event = await skipped.decode(r.topic, r.partition, r.offset, r.value)
            if event is not None:
                out.append((r.timestamp, r.offset, event))
    except TopicNotFound:
        raise CliError(f"topic {name!r} does not exist: start the venue's connector with "
                       "`trading:` first") from None
    out.sort(key=lambda x: (x[0], x[1]))
    return [e for _, _, e in out]
