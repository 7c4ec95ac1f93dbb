"""The trading side of one connector: orders topic in, acks and private events out.

    trader = Trader(connector, connector.config.trading, queue, bootstrap, prefix)
    await trader.run()        # until trader.stop(); the connector runs beside it

It waits for the connector's instrument list (commands are validated against it), loads the
credentials (live), opens the gateway (the exchange, or the paper engine), starts the private
stream (live), publishes a REST snapshot of open orders and wallet, then consumes
`ttxt.<venue>.orders` in its consumer group. Per batch of records: decode (undecodable or not a
command: copied to the dead-letter topic, counted, logged), skip commands already acked, execute
the rest (`Executor`: exactly one ack each), flush the producer, then commit the offsets.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from ttxt_kafka.bus.kafka_queue import KafkaQueue
from ttxt_kafka.codec import DEFAULT_CODEC, CodecError
from ttxt_kafka.credentials import Credentials, CredentialsError, load_credentials
from ttxt_kafka.events import ConnectorState, ConnectorStatus, Event, OrderUpdate, now_us
from ttxt_kafka.orders.errors import ExchangeFailure
from ttxt_kafka.topics import topic

from ..base.connector import Connector
from ..base.errors import ConnectorError
from ..config import TradingConfig
from .consumer import CommandConsumer, CommandRecord
from .crash import crash_point
from .executor import COMMANDS, Executor, TradingStats
from .gateway import Gateway
from .journal import AckJournal
from .known import KnownOrders
from .private import PrivateStream
from .sync_command import AccountSync

log = logging.getLogger(__name__)

T = TypeVar("T")

ERROR_HEADER = "ttxt-error"
SOURCE_HEADER = "ttxt-source"


def dead_letter_topic(orders_topic: str) -> str:
    """`ttxt.<venue>.orders` -> `ttxt.<venue>.orders.dlq` (raw bytes, not events)."""
    return f"{orders_topic}.dlq"


def trading_topics(venue: str, config: TradingConfig, prefix: str) -> list[str]:
    orders = topic(venue, "orders", prefix)
    return [orders, topic(venue, "executions", prefix), topic(venue, "account", prefix),
            config.dead_letter_topic or dead_letter_topic(orders)]


class Trader:
    def __init__(self, connector: Connector, config: TradingConfig, queue: KafkaQueue,
                 bootstrap: str, prefix: str) -> None:
        self.connector = connector
        self.config = config
        self.queue = queue
        self.venue = connector.venue
        self.mode = config.mode
        self.orders_topic = topic(self.venue, "orders", prefix)
        self.dlq_topic = config.dead_letter_topic or dead_letter_topic(self.orders_topic)
        self.credentials_name = config.credentials or self.venue
        self.group_id = config.group_id or f"ttxt-connector.{self.venue}.{self.credentials_name}"
        self.consumer = CommandConsumer(bootstrap, self.orders_topic, self.group_id,
                                        instance_id=config.instance_id)
        self.journal = AckJournal(bootstrap, topic(self.venue, "executions", prefix),
                                  margin_s=config.journal_margin)
        self.known = KnownOrders()
        self.gateway: Gateway | None = None
        self.stream: PrivateStream | None = None
        self.executor: Executor | None = None
        self.ready = asyncio.Event()  # consuming, with the private stream up (live)
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []
        self._log_budget = 0
        self._stats = TradingStats()

    @property
    def stats(self) -> TradingStats:
        return self.executor.stats if self.executor is not None else self._stats

    def stop(self) -> None:
        self._stopping.set()

    # ------------------------------------------------------------------ lifecycle

    async def run(self) -> None:
        try:
            await self._start()
            self.ready.set()
            await self._consume()
        finally:
            await self._close()

    async def _start(self) -> None:
        stopping = asyncio.ensure_future(self._stopping.wait())
        ready = asyncio.ensure_future(self.connector.instruments_ready.wait())
        await asyncio.wait([stopping, ready], return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        ready.cancel()
        if self._stopping.is_set():
            return
        from .build import gateway_for, stream_for  # the exchange packages import this one

        credentials = self._credentials() if self.mode == "live" else None
        self.gateway = gateway_for(self, credentials)
        if self.gateway is not None:
            await self.gateway.start()
        self.executor = Executor(
            venue=self.venue, exchange=self.connector.exchange, symbols=self.connector.symbols,
            mode=self.mode, gateway=self.gateway, known=self.known,
            max_retries=self.config.max_retries, retry_delay=self.config.retry_delay,
            max_age_us=int(self.config.command_max_age * 1_000_000))
        if credentials is not None and self.gateway is not None:
            self.stream = stream_for(self, credentials)
            self._tasks.append(asyncio.ensure_future(self.stream.run(self._stopping)))
            await self._wait(self.stream.ready, 10.0)
        await self.consumer.start()
        await self._wait(self.consumer.assigned, 30.0)
        if self.gateway is not None:
            await self.sync("start")
            if self.config.sync_interval > 0:
                self._tasks.append(asyncio.ensure_future(self._sync_loop()))
        log.info("%s: trading %s, orders from %s (group %s)", self.venue, self.mode,
                 self.orders_topic, self.group_id)

    async def _wait(self, event: asyncio.Event, timeout: float) -> None:
        """Wait for `event`, not past `timeout` (the loop goes on either way) nor a stop."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)

    def _credentials(self) -> Credentials:
        try:
            return load_credentials(self.credentials_name, secrets_file=self.config.secrets_file)
        except CredentialsError as exc:
            raise ConnectorError(f"{self.venue}: trading mode live needs credentials: "
                                 f"{exc}") from None

    async def _close(self) -> None:
        self._stopping.set()
        if self.stream is not None:  # closed first, so it can say DISCONNECTED
            await self.stream.close()
            await asyncio.wait(self._tasks[:1], timeout=5.0)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.consumer.stop()
        if self.gateway is not None:
            await self.gateway.close()

    # ------------------------------------------------------------------ commands

    async def _consume(self) -> None:
        while not self._stopping.is_set():
            batch = await self.consumer.fetch(timeout_ms=200)
            if not batch:
                continue
            async with self.consumer.lock:
                batch = self.consumer.owned(batch)
                failures = self.queue.stats.delivery_errors
                for record in batch:
                    await self._handle(record)
                await self.queue.flush()  # the acks are in Kafka ...
                if self.queue.stats.delivery_errors != failures:
                    # never commit past an ack that did not arrive: stop, and let a restart
                    # handle these commands again (their exactly-once checks hold)
                    raise ConnectorError(f"{self.venue}: acks could not be delivered to Kafka; "
                                         "stopping without committing their commands")
                crash_point("after_ack")
                await self.consumer.commit(batch)  # ... before the offsets move past them

    async def _handle(self, record: CommandRecord) -> None:
        try:
            if record.value is None:
                raise CodecError("empty record value (tombstone)")
            event = DEFAULT_CODEC.decode(record.value)
        except CodecError as exc:
            await self._dead_letter(record, str(exc))
            return
        if isinstance(event, AccountSync):
            await self.sync(f"requested by command {event.command_id[:40]}")
            return
        if not isinstance(event, COMMANDS):
            await self._dead_letter(record, f"{event.SCHEMA} is not an order command")
            return
        assert self.executor is not None
        if event.command_id in self.journal:
            self.executor.stats.duplicates_skipped += 1
            return
        if record.possibly_seen:
            await self.journal.ensure_scanned(record.timestamp)
            if event.command_id in self.journal:
                self.executor.stats.duplicates_skipped += 1
                log.info("%s: command %s was acked before a restart: skipped", self.venue,
                         event.command_id[:40])
                return
        ack = await self.executor.execute(event, record.possibly_seen)
        try:
            await self.queue.publish(ack)
        except CodecError as exc:  # a command whose fields cannot travel back: keep it
            await self._dead_letter(record, f"its ack cannot be encoded: {exc}")
            return
        self.journal.add(event.command_id)

    async def _dead_letter(self, record: CommandRecord, reason: str) -> None:
        stats = self.stats
        stats.dead_lettered += 1
        self._log_budget += 1
        if self._log_budget <= 10 or self._log_budget % 1000 == 0:
            log.warning("%s: %s is not a usable command (%d so far), copied to %s: %s",
                        self.venue, record.source, stats.dead_lettered, self.dlq_topic, reason)
        await self.queue.publish_raw(
            self.dlq_topic, record.value or b"", record.key,
            [(ERROR_HEADER, reason[:500].encode()), (SOURCE_HEADER, record.source.encode())])

    # ------------------------------------------------------------------ events out

    async def publish(self, event: Event) -> None:
        """A private-stream, paper or REST-snapshot event: to Kafka, and into the known orders."""
        if isinstance(event, OrderUpdate):
            self.known.apply(event)
        self.stats.private_events += 1
        try:
            await self.queue.publish(event)
        except CodecError as exc:
            log.warning("%s: %s not published: %s", self.venue, event.SCHEMA, exc)

    async def status(self, state: ConnectorState, stream: str, reason: str = "") -> None:
        ts = now_us()
        log.info("%s %s: %s %s", self.venue, stream, state.value, reason)
        await self.queue.publish(ConnectorStatus(venue=self.venue, symbol="", exchange_ts=ts,
                                                 receive_ts=ts, stream=stream, status=state,
                                                 reason=reason))

    async def sync(self, why: str) -> None:
        """Open orders and wallet (and positions) over REST, published as events."""
        gateway = self.gateway
        if gateway is None:
            return
        started = time.monotonic()
        orders = await self._retrying(gateway.open_orders)
        account = await self._retrying(gateway.account)
        problems = [x.reason for x in (orders, account) if isinstance(x, ExchangeFailure)]
        for event in [*(orders if isinstance(orders, list) else []),
                      *(account if isinstance(account, list) else [])]:
            await self.publish(event)
        if problems:
            log.warning("%s: account snapshot (%s) incomplete: %s", self.venue, why,
                        "; ".join(problems))
        else:
            log.info("%s: account snapshot (%s): %d open orders (%.0f ms)", self.venue, why,
                     len(orders) if isinstance(orders, list) else 0,
                     (time.monotonic() - started) * 1000)

    async def _retrying(self, call: Callable[[], Awaitable[T]]) -> T:
        """A REST read, again after a backoff while the answer is a retryable refusal."""
        delay = self.config.retry_delay
        for _ in range(self.config.max_retries):
            result = await call()
            if not (isinstance(result, ExchangeFailure) and result.retryable):
                return result
            await asyncio.sleep(delay)
            delay *= 2
        return await call()

    async def on_reconnect(self) -> None:
        await self.sync("private stream reconnected")

    async def _sync_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.sync_interval)
            await self.sync("periodic")
