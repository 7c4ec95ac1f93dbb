"""The trading tests' harness: a simulator with its private side, a connector with `trading:`
running into a real broker under a fresh topic prefix, and a collector of what comes back."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from ttxt_kafka import venues
from ttxt_kafka.admin import cluster_metadata, ensure_topics
from ttxt_kafka.bus import KafkaQueue
from ttxt_kafka.codec import CodecError, decode
from ttxt_kafka.connectors import connector_for
from ttxt_kafka.connectors.base.connector import Connector
from ttxt_kafka.connectors.config import ConnectorConfig, parse_config
from ttxt_kafka.connectors.runner import topics_of
from ttxt_kafka.connectors.trading import Trader
from ttxt_kafka.credentials import Credentials
from ttxt_kafka.events import (
    CreateOrder,
    Event,
    OrderAck,
    OrderType,
    Side,
    TimeInForce,
    now_us,
)
from ttxt_kafka.matching import EngineEvent
from ttxt_kafka.simulator import Simulator, SyntheticSource
from ttxt_kafka.simulator.trading import TradingSettings
from ttxt_kafka.topics import topic

# Known fake credentials: the secrets test searches every log line and topic for them.
API_KEY = "TtxtFakeKey" + "k9" * 26 + "Q"  # 64 characters, like Binance's
# base64 text (Kraken decodes its secrets); any text does for the others
API_SECRET = "TtxtFakeSecret" + "s7" * 25 + "ZQ=="
API_PASSPHRASE = "TtxtFakePass" + "p3" * 10 + "W"  # Bitget's, KuCoin's and OKX's third credential
CREDENTIALS = Credentials(API_KEY, API_SECRET, API_PASSPHRASE)
# Coinbase's secret is the private half of an EC P-256 key (PEM), its key name the API key. A
# throw-away key made for these tests, known to them only.
COINBASE_SECRET = (
    "-----BEGIN EC PRIVATE KEY-----\n"
    "MHcCAQEEIFIxqawWULdUu+odT9x9L8NU5reO7GPsA5sEpMRZgUEkoAoGCCqGSM49\n"
    "AwEHoUQDQgAEVrIovDHrWgy6jaoQzT2nUOFBpMAR/960dtUacXy68weiPArdrPpS\n"
    "IwJcxJPV6+je6Ij8ZQKWPugYhbioFUHjuQ==\n"
    "-----END EC PRIVATE KEY-----\n")
COINBASE_CREDENTIALS = Credentials(API_KEY, COINBASE_SECRET)
VENUES = ("binance", "binance_usdm", "bybit_spot", "bybit_linear", "bitget_spot", "bitget_usdtm",
          "gateio_spot", "mexc_spot", "kucoin_spot", "coinbase_spot", "okx_spot", "okx_swap",
          "kraken_spot")
# Spot venues that size a market BUY in the quote currency: the connector refuses such a
# command (ttxt quantities are base), tests buy with a limit IOC there instead.
QUOTE_SIZED_MARKET_BUYS = ("bitget_spot", "gateio_spot")


def credentials_for(venue: str) -> Credentials:
    return COINBASE_CREDENTIALS if venue.startswith("coinbase") else CREDENTIALS


def secret_for(venue: str) -> str:
    return credentials_for(venue).secret.reveal()


def native(venue: str, symbol: str = "BTC/USDT") -> str:
    """A symbol as the venue's simulator writes it: Gate.io BTC_USDT, Coinbase and KuCoin
    BTC-USDT, Kraken BTC/USDT, the others BTCUSDT."""
    if venue.startswith("kraken"):
        return symbol
    sep = "_" if venue.startswith("gateio") else "-" if venue.startswith(("coinbase", "kucoin")
                                                                         ) else ""
    return symbol.replace("/", sep)


def cid(venue: str, name: str) -> str:
    """A client order id the venue accepts: its rule's required prefix (Gate.io `t-`) + name,
    letters and digits only where the rule takes nothing else (OKX)."""
    rule = venues.venue(venue).client_ids
    made = rule.required_prefix + name
    return re.sub(r"[^A-Za-z0-9]", "", made) if rule.problem(made) else made


def env_for(venue: str) -> dict[str, str]:
    name = venue.upper()
    return {f"TTXT_{name}_API_KEY": API_KEY, f"TTXT_{name}_API_SECRET": secret_for(venue),
            f"TTXT_{name}_API_PASSPHRASE": API_PASSPHRASE}


def set_credentials(monkeypatch: Any) -> None:
    """The fake credentials in the environment, for every venue (pytest's monkeypatch)."""
    for venue in VENUES:
        for name, value in env_for(venue).items():
            monkeypatch.setenv(name, value)


def simulator(venue: str, *, trading: bool = True, seed: int = 7,
              balances: dict[str, str] | None = None, rate: float | None = 20.0) -> Simulator:
    settings = None
    creds = credentials_for(venue)
    if trading:
        settings = TradingSettings(creds) if balances is None else TradingSettings(
            creds, balances={a: Decimal(v) for a, v in balances.items()})
    symbols = [native(venue, "BTC/USDT"), native(venue, "ETH/USDT")]
    return Simulator(venue, SyntheticSource(seed=seed, symbols=symbols, rate=rate),
                     trading=settings)


def connector_config(venue: str, sim: Simulator, prefix: str, *, mode: str = "live",
                     **trading: Any) -> dict[str, Any]:
    """A whole config (as YAML would give it): one connector on the simulator, trading on."""
    return {"topic_prefix": prefix, "connectors": [{
        "venue": venue, "symbols": ["BTC/USDT", "ETH/USDT"], "streams": {"book": True},
        "endpoints": {"ws": sim.ws_url, "rest": sim.rest_url}, "snapshot_interval": 0,
        "reconnect": {"initial_delay": 0.05, "max_delay": 0.5},
        "trading": {"mode": mode, "retry_delay": 0.05, **trading}}]}


def new_prefix() -> str:
    return f"tr{uuid.uuid4().hex[:10]}"


def create(venue: str, side: Side = Side.BUY, qty: str = "0.01", price: str | None = None,
           symbol: str = "BTC/USDT", **fields: Any) -> CreateOrder:
    ts = now_us()
    return CreateOrder(venue=venue, symbol=symbol, exchange_ts=ts, receive_ts=ts,
                       command_id=fields.pop("command_id", f"t-{uuid.uuid4().hex[:20]}"),
                       side=side, order_type=OrderType.LIMIT if price else OrderType.MARKET,
                       qty=qty, price=price, time_in_force=fields.pop(
                           "time_in_force", TimeInForce.GTC), **fields)


class Collector:
    """Everything published on some topics from their beginning, decoded, as it arrives."""

    def __init__(self, bootstrap: str, topics: list[str]) -> None:
        self.bootstrap = bootstrap
        self.topics = topics
        self.events: list[tuple[str, Event]] = []
        self.undecodable: list[tuple[str, bytes]] = []
        self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> Collector:
        await self._consumer.start()
        metadata = await cluster_metadata(self._consumer)
        tps = [TopicPartition(t, p) for t in self.topics
               for p in sorted(metadata.partitions_for_topic(t) or ())]
        self._consumer.assign(tps)
        await self._consumer.seek_to_beginning(*tps)
        self._task = asyncio.ensure_future(self._run())
        return self

    async def _run(self) -> None:
        while True:
            batches = await self._consumer.getmany(timeout_ms=100)
            for tp, records in batches.items():
                for r in records:
                    try:
                        self.events.append((tp.topic, decode(r.value or b"")))
                    except CodecError:
                        self.undecodable.append((tp.topic, r.value or b""))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._consumer.stop()

    def of(self, cls: type[Any], channel: str | None = None) -> list[Any]:
        return [e for t, e in self.events if isinstance(e, cls)
                and (channel is None or t.endswith("." + channel))]

    async def wait(self, check: Callable[[], Any], timeout: float = 15.0, what: str = "") -> Any:
        deadline = time.monotonic() + timeout
        while True:
            result = check()
            if result:
                return result
            if time.monotonic() > deadline:
                raise TimeoutError(f"not seen within {timeout}s: {what or check}")
            await asyncio.sleep(0.02)

    async def ack(self, command_id: str, timeout: float = 15.0) -> OrderAck:
        acks = await self.wait(lambda: [a for a in self.of(OrderAck)
                                        if a.command_id == command_id], timeout, command_id)
        return acks[0]  # type: ignore[no-any-return]


@dataclass
class TradingRun:
    """A connector and its Trader, in this process, into Kafka."""

    sim: Simulator
    config: ConnectorConfig
    prefix: str
    queue: KafkaQueue
    connector: Connector
    trader: Trader
    collector: Collector
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    engine_events: list[EngineEvent] = field(default_factory=list)

    @classmethod
    async def start(cls, bootstrap: str, sim: Simulator, *, mode: str = "live",
                    prefix: str | None = None, **trading: Any) -> TradingRun:
        prefix = prefix or new_prefix()
        config = parse_config(connector_config(sim.venue, sim, prefix, mode=mode,
                                               **trading))
        await ensure_topics(bootstrap, topics_of(config))
        queue = KafkaQueue(bootstrap, prefix=prefix)
        await queue.start()
        cfg = config.connectors[0]
        assert cfg.trading is not None
        connector = connector_for(cfg, queue)
        trader = Trader(connector, cfg.trading, queue, bootstrap, prefix)
        venue = cfg.venue
        collector = await Collector(bootstrap, [topic(venue, ch, prefix) for ch in (
            "executions", "account", "status")]).start()
        run = cls(sim, cfg, prefix, queue, connector, trader, collector)
        if sim.private is not None:
            sim.exchange.listeners.append(run.engine_events.extend)
        run.tasks = [asyncio.ensure_future(connector.run()), asyncio.ensure_future(trader.run())]
        try:
            await run.wait_ready()
        except BaseException:
            await run.stop()
            raise
        return run

    async def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not (self.trader.ready.is_set() and self.connector.states and all(
                s.sync.synced for s in self.connector.states.values())):
            for task in self.tasks:
                if task.done():
                    task.result()
            if time.monotonic() > deadline:
                raise TimeoutError("trader not ready")
            await asyncio.sleep(0.02)

    async def send(self, *commands: Event) -> None:
        for command in commands:
            await self.queue.publish(command)
        await self.queue.flush()

    async def place(self, command: CreateOrder, timeout: float = 15.0) -> OrderAck:
        await self.send(command)
        return await self.collector.ack(command.command_id, timeout)

    async def stop(self) -> None:
        """Stop both; raises what ended either of them (a crash is a failure)."""
        self.trader.stop()
        self.connector.stop()
        results = await asyncio.wait_for(asyncio.gather(*self.tasks, return_exceptions=True), 30)
        await self.queue.stop()
        await self.collector.stop()
        for result in results:
            if isinstance(result, BaseException):
                raise result
        assert self.queue.stats.delivery_errors == 0


