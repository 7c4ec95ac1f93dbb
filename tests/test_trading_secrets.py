"""No secret in any log line or topic: the whole trading path (a `ttxt connect` subprocess with
its credentials from the secrets file its config names, the CLI, the simulator in this process)
runs with known fake credentials, including refusals (bad signature, rate limit) and dropped
private connections; then every log line (this process's, the subprocesses' stderr and stdout)
and every record of every topic of the run (values, keys, headers, the dead-letter topic too)
is searched for the key and the secret, and their obvious encodings."""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import sys
import urllib.parse
from pathlib import Path

import pytest
import yaml
from aiokafka import AIOKafkaConsumer, TopicPartition
from test_trading_crash import Connect
from trading_support import (
    API_KEY,
    API_PASSPHRASE,
    API_SECRET,
    COINBASE_SECRET,
    QUOTE_SIZED_MARKET_BUYS,
    Collector,
    connector_config,
    create,
    new_prefix,
    secret_for,
    simulator,
)

from ttxt_kafka.admin import cluster_metadata, ensure_topics, list_topics
from ttxt_kafka.bus import KafkaQueue
from ttxt_kafka.connectors.config import parse_config
from ttxt_kafka.connectors.runner import topics_of
from ttxt_kafka.events import AckStatus, Side
from ttxt_kafka.topics import topic

pytestmark = pytest.mark.kafka


def needles() -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for name, value in (("key", API_KEY), ("secret", API_SECRET),
                        ("passphrase", API_PASSPHRASE), ("coinbase key", COINBASE_SECRET)):
        raw = value.encode()
        for how, form in (("plain", raw), ("lower", raw.lower()), ("upper", raw.upper()),
                          ("hex", raw.hex().encode()), ("base64", base64.b64encode(raw)),
                          ("base64url", base64.urlsafe_b64encode(raw)),
                          ("quoted", urllib.parse.quote(value).encode()),
                          ("reversed", raw[::-1]), ("utf16", value.encode("utf-16-le"))):
            out[f"{name} {how}"] = form
        out[f"{name} middle"] = raw[8:-8]  # a part of it, as a masked or cut text would hold
    # Coinbase's PEM: each line of its base64 body, and the key's raw bytes (the EC scalar)
    body = [line for line in COINBASE_SECRET.split("\n") if line and "-----" not in line]
    for i, line in enumerate(body):
        out[f"coinbase key line {i}"] = line.encode()
    der = base64.b64decode("".join(body))
    out["coinbase key scalar"] = der[7:39]  # SEC1 ECPrivateKey: the 32-byte private scalar
    out["coinbase key scalar hex"] = der[7:39].hex().encode()
    return out


def search(haystack: bytes, where: str) -> list[str]:
    return [f"{what} in {where}" for what, needle in needles().items() if needle in haystack]


async def read_every_record(bootstrap: str, prefix: str) -> list[bytes]:
    names = await list_topics(bootstrap, pattern=f"^{prefix}\\.")
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    out: list[bytes] = []
    try:
        metadata = await cluster_metadata(consumer)
        tps = [TopicPartition(n, p) for n in names
               for p in sorted(metadata.partitions_for_topic(n) or ())]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        end = await consumer.end_offsets(tps)
        remaining = {tp: o for tp, o in end.items() if o > 0}
        while remaining:
            for tp, records in (await consumer.getmany(timeout_ms=500)).items():
                for r in records:
                    if r.offset < end[tp]:
                        out.append((r.value or b"") + b"|" + (r.key or b"") + b"|" + b"|".join(
                            k.encode() + b"=" + v for k, v in r.headers))
                    if r.offset + 1 >= end[tp]:
                        remaining.pop(tp, None)
    finally:
        await consumer.stop()
    return out


async def cli(*args: str, env: dict[str, str]) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ttxt_kafka.cli", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(errors="replace")


@pytest.mark.parametrize("venue", ["binance_usdm", "bybit_linear", "bitget_usdtm",
                                   "gateio_spot", "mexc_spot", "kucoin_spot", "coinbase_spot",
                                   "okx_swap", "kraken_spot"])
async def test_no_secret_in_any_log_or_topic(kafka_bootstrap: str, tmp_path: Path,
                                             caplog: pytest.LogCaptureFixture,
                                             venue: str) -> None:
    caplog.set_level(logging.DEBUG)
    sim = simulator(venue)
    await sim.start()
    prefix = new_prefix()
    secrets_file = tmp_path / "secrets.yaml"
    secrets_file.write_text(yaml.safe_dump({"sim-account": {
        "api_key": API_KEY, "api_secret": secret_for(venue),
        "api_passphrase": API_PASSPHRASE}}))
    secrets_file.chmod(0o600)
    data = connector_config(venue, sim, prefix, credentials="sim-account",
                            secrets_file=str(secrets_file), instance_id=f"{prefix}-a")
    data["kafka"] = {"bootstrap_servers": kafka_bootstrap}
    config_path = tmp_path / "connect.yaml"
    config_path.write_text(yaml.safe_dump(data))
    await ensure_topics(kafka_bootstrap, topics_of(parse_config(data)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TTXT_")}
    env |= {"PYTHONUNBUFFERED": "1", "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap}
    collector = await Collector(kafka_bootstrap, [topic(venue, "executions", prefix)]).start()
    connect = Connect(config_path, None, venue)
    connect.env = {**env, "TTXT_TEST_CRASH_AT": ""}  # credentials only from the file
    outputs: list[str] = []
    try:
        await connect.start()
        first = "sell" if venue in QUOTE_SIZED_MARKET_BUYS else "buy"  # (market buys in quote)
        code, out = await cli("order", first, venue, "BTC/USDT", "0.02", "--prefix", prefix,
                              env=env)
        outputs.append(out)
        assert code == 0, out
        # a refusal (Bybit's trade WS signs the connection, not each order)
        sim.inject("bad_signature" if venue.startswith("binance") else "insufficient_balance")
        code, out = await cli("order", "sell", venue, "BTC/USDT", "0.01", "--prefix", prefix,
                              env=env)
        outputs.append(out)
        assert code == 1 and '"REJECTED"' in out and '"error_code":"' in out, out
        if venue.startswith("bybit"):  # (Binance's 429 empties the weight bucket: slow, and
            sim.inject("rate_limit")   # covered by test_trading_path)
        sim.inject("drop_connection")  # every private socket cut: reconnects, new listen key
        async with KafkaQueue(kafka_bootstrap, prefix=prefix) as queue:
            order = create(venue, Side.SELL, "0.01")
            await queue.publish(order)
            await queue.publish(create(venue, Side.BUY, "0.01", "1000.05"))  # bad tick
            await queue.publish_raw(topic(venue, "orders", prefix), b"garbage " + b"x" * 40)
        assert (await collector.ack(order.command_id)).status is AckStatus.ACCEPTED
        await collector.wait(lambda: sum("CONNECTED" in line and "private" in line or
                                         "user_data: CONNECTED" in line
                                         for line in connect.lines) >= 2,
                             what="the private stream back")
        code, out = await cli("orders", venue, "--sync", "--prefix", prefix, env=env)
        outputs.append(out)
        assert code == 0 and "open orders" in out, out
        assert await connect.terminate() == 0, connect.log
    finally:
        if connect.proc is not None and connect.proc.returncode is None:
            connect.proc.kill()
            await connect.wait()
        await collector.stop()
        await sim.stop()

    records = await read_every_record(kafka_bootstrap, prefix)
    found = search(caplog.text.encode(), "this process's log")
    found += search(connect.log.encode(), "ttxt connect's stderr")
    found += [hit for out in outputs for hit in search(out.encode(), "the CLI's output")]
    found += [hit for record in records for hit in search(record, "a topic")]
    assert len(records) > 20 and len(connect.lines) > 5
    print(f"\nsecrets: {len(records)} records of "
          f"{len(await list_topics(kafka_bootstrap, pattern=f'^{prefix}'))} topics, "
          f"{len(caplog.records)} log records here, {len(connect.lines)} connector log lines, "
          f"{len(needles())} forms of the key and secret searched: {len(found)} found")
    assert found == []
