"""The Confluent wire format against a real schema registry (Apicurio, started once for the
session by the `schema_registry_url` fixture): framing, ids per subject, both framings decoded
by the same codec, schema evolution under BACKWARD compatibility, and the failures (unknown id,
unreachable registry, no registry) as clear, counted errors."""

from __future__ import annotations

import copy
import io
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastavro import parse_schema, schemaless_writer

from ttxt_kafka import serialization, testing
from ttxt_kafka.archive.peek import Peeker
from ttxt_kafka.codec import Codec, CodecError, UnknownSchemaError
from ttxt_kafka.confluent import (
    ConfluentFraming,
    SchemaRegistryClient,
    SchemaRegistryError,
    SchemaRegistryUnavailableError,
    UnknownSchemaIdError,
    expanded_schema,
)
from ttxt_kafka.events import BUILTIN_EVENTS, Trades
from ttxt_kafka.registry import REGISTRY, Registry
from ttxt_kafka.samples import all_samples
from ttxt_kafka.topics import topic_for


def fresh_topic() -> str:
    return f"t{uuid.uuid4().hex[:10]}.binance.trades"


@pytest.fixture()
def client(schema_registry_url: str) -> SchemaRegistryClient:
    return SchemaRegistryClient(schema_registry_url)


@pytest.fixture()
def settings_reset() -> Iterator[None]:
    serialization.reset()
    yield
    serialization.reset()


def trades() -> Trades:
    event = next(e for e in all_samples() if isinstance(e, Trades))
    assert isinstance(event, Trades)
    return event


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---------------------------------------------------------------- framing and ids


def test_every_event_type_round_trips_in_both_framings(client: SchemaRegistryClient) -> None:
    codec = Codec(confluent=ConfluentFraming(client))
    prefix = f"t{uuid.uuid4().hex[:10]}"
    for event in all_samples():
        topic = topic_for(event, prefix)
        framed = codec.encode_for(event, topic)
        plain = codec.encode(event)
        # 00 + 4-byte big-endian id + the same Avro body single-object encoding carries
        assert framed[:1] == b"\x00"
        assert framed[5:] == plain[10:]
        schema_id = int.from_bytes(framed[1:5], "big")
        assert client.lookup(f"{topic}-value", expanded_schema(codec.event_type(event))) \
            == schema_id
        assert codec.decode(framed) == event
        assert codec.decode(plain) == event  # the other framing, same codec


def test_registered_schema_is_the_codecs_expanded_schema(client: SchemaRegistryClient) -> None:
    codec = Codec(confluent=ConfluentFraming(client))
    topic = fresh_topic()
    framed = codec.encode_for(trades(), topic)
    stored = client.schema(int.from_bytes(framed[1:5], "big"))
    et = REGISTRY.by_name["Trades"]
    assert stored == expanded_schema(et)
    # self-contained: every named type is defined in it (parses alone), full names
    assert parse_schema(copy.deepcopy(stored))["name"] == "ttxt.events.Trades"
    assert '"name": "ttxt.events.Side"' in json.dumps(stored)


def test_ids_are_cached_per_subject(client: SchemaRegistryClient) -> None:
    framing = ConfluentFraming(client)
    codec = Codec(confluent=framing)
    topic = fresh_topic()
    first = codec.encode_for(trades(), topic)
    calls = 0
    real = client._call

    def counting(*args: object, **kwargs: object) -> object:
        nonlocal calls
        calls += 1
        return real(*args, **kwargs)  # type: ignore[arg-type]

    client._call = counting  # type: ignore[method-assignment]
    for _ in range(100):
        assert codec.encode_for(trades(), topic)[:5] == first[:5]
        codec.decode(first)
    assert calls == 0  # neither producing nor consuming asks the registry again


@pytest.mark.parametrize(("strategy", "subject"), [
    ("topic", "{topic}-value"),
    ("record", "ttxt.events.Trades"),
    ("topic-record", "{topic}-ttxt.events.Trades"),
])
def test_subject_name_strategies(client: SchemaRegistryClient, strategy: str,
                                 subject: str) -> None:
    topic = fresh_topic()
    codec = Codec(confluent=ConfluentFraming(client, subject_strategy=strategy))
    codec.encode_for(trades(), topic)
    assert subject.format(topic=topic) in client.subjects()


def test_lookup_only_refuses_an_unregistered_schema(client: SchemaRegistryClient) -> None:
    codec = Codec(confluent=ConfluentFraming(client, auto_register=False))
    topic = fresh_topic()
    with pytest.raises(SchemaRegistryError, match="not registered under subject"):
        codec.encode_for(trades(), topic)
    client.register(f"{topic}-value", expanded_schema(REGISTRY.by_name["Trades"]))
    codec = Codec(confluent=ConfluentFraming(client, auto_register=False))
    assert codec.decode(codec.encode_for(trades(), topic)) == trades()


def test_peek_reads_confluent_records(client: SchemaRegistryClient) -> None:
    codec = Codec(confluent=ConfluentFraming(client))
    peeker = Peeker(codec=codec)
    for event in all_samples():
        plain = peeker.peek(codec.encode(event))
        framed = peeker.peek(codec.encode_for(event, topic_for(event, "tpeek")))
        assert framed == plain
    unknown = b"\x00" + (2**31 - 7).to_bytes(4, "big") + codec.encode(trades())[10:]
    assert peeker.peek(unknown) is None  # the recorder keeps it raw, counted
    assert peeker.unresolved_ids == 1


# ---------------------------------------------------------------- evolution


def test_backward_evolution_through_the_registry(client: SchemaRegistryClient) -> None:
    topic = fresh_topic()
    subject = f"{topic}-value"
    codec = Codec(confluent=ConfluentFraming(client))
    codec.encode_for(trades(), topic)  # version 1: ttxt's schema
    client.set_compatibility(subject, "BACKWARD")
    assert client.compatibility(subject) == "BACKWARD"

    # A producer with a newer schema: one more field, with a default. Compatible.
    newer = expanded_schema(REGISTRY.by_name["Trades"])
    newer["fields"].append({"name": "venue_region", "type": "string", "default": "eu"})
    new_id = client.register(subject, newer)
    assert client.versions(subject) == [1, 2]

    # What it writes decodes into ttxt's (older) reader schema by Avro's rules.
    record = REGISTRY.by_name["Trades"].to_record(trades())
    buf = io.BytesIO()
    schemaless_writer(buf, parse_schema(copy.deepcopy(newer)), {**record,
                                                                "venue_region": "ap"})
    framed = b"\x00" + new_id.to_bytes(4, "big") + buf.getvalue()
    fresh = Registry()  # not the process's: the newer writer schema is added to this one
    for cls in BUILTIN_EVENTS:
        fresh.register(cls)
    reader = Codec(fresh, confluent=ConfluentFraming(client))
    assert reader.decode(framed) == trades()
    assert len(fresh.writers) == len(BUILTIN_EVENTS) + 1

    # An incompatible change (a field's type) is refused with the registry's own message.
    incompatible = expanded_schema(REGISTRY.by_name["Trades"])
    incompatible["fields"][3] = {"name": "exchange_ts", "type": "string"}
    with pytest.raises(SchemaRegistryError) as refused:
        client.register(subject, incompatible)
    assert refused.value.status == 409
    # the registry's own words, as the README quotes them
    assert "Incompatible artifact" in str(refused.value)
    assert ("reader type: STRING not compatible with writer type: LONG at /fields/3/type"
            in str(refused.value))
    assert client.versions(subject) == [1, 2]


# ---------------------------------------------------------------- failures


def test_unknown_schema_id_is_a_clear_codec_error(client: SchemaRegistryClient) -> None:
    framing = ConfluentFraming(client)
    codec = Codec(confluent=framing)
    body = codec.encode(trades())[10:]
    bogus = b"\x00" + (2**31 - 3).to_bytes(4, "big") + body
    with pytest.raises(UnknownSchemaIdError, match=r"schema id 2147483645 is not in the schema "
                                                   r"registry"):
        codec.decode(bogus)
    assert framing.registry_errors == 1
    assert isinstance(UnknownSchemaIdError("x"), CodecError)


def test_unreachable_registry_fails_fast_and_clearly() -> None:
    framing = ConfluentFraming(SchemaRegistryClient(f"http://127.0.0.1:{closed_port()}"))
    codec = Codec(confluent=framing)
    framed = b"\x00\x00\x00\x00\x01" + codec.encode(trades())[10:]
    with pytest.raises(SchemaRegistryUnavailableError, match="unreachable"):
        codec.decode(framed)
    started = time.monotonic()
    for _ in range(1000):  # remembered: no new connection per record for a few seconds
        with pytest.raises(SchemaRegistryUnavailableError):
            codec.decode(framed)
    assert time.monotonic() - started < 1.0
    assert framing.registry_errors == 1001
    with pytest.raises(SchemaRegistryUnavailableError):
        codec.encode_for(trades(), fresh_topic())  # a producer is told the same


def test_confluent_record_without_a_registry_configured(settings_reset: None,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TTXT_SCHEMA_REGISTRY_URL", raising=False)
    monkeypatch.delenv("TTXT_SERIALIZATION", raising=False)
    serialization.reset()
    codec = Codec()
    with pytest.raises(UnknownSchemaError, match="no schema registry is configured"):
        codec.decode(b"\x00\x00\x00\x00\x01" + codec.encode(trades())[10:])


def test_settings_from_environment_and_configure(settings_reset: None, schema_registry_url: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TTXT_SERIALIZATION", "confluent")
    monkeypatch.setenv("TTXT_SCHEMA_REGISTRY_URL", schema_registry_url)
    monkeypatch.setenv("TTXT_SCHEMA_REGISTRY_PASSWORD", "hunter2")
    monkeypatch.setenv("TTXT_SCHEMA_REGISTRY_USERNAME", "svc")
    serialization.reset()
    s = serialization.settings()
    assert s.confluent and s.registry_url == schema_registry_url
    assert "hunter2" not in repr(s) and "hunter2" not in s.describe()
    monkeypatch.delenv("TTXT_SCHEMA_REGISTRY_USERNAME")
    monkeypatch.delenv("TTXT_SCHEMA_REGISTRY_PASSWORD")
    serialization.reset()
    codec = Codec()  # no framing given: the settings decide
    framed = codec.encode_for(trades(), fresh_topic())
    assert framed[:1] == b"\x00" and codec.decode(framed) == trades()
    serialization.configure(format="single-object")
    assert codec.encode_for(trades(), fresh_topic())[:2] == b"\xc3\x01"
    assert codec.decode(framed) == trades()  # still read: the registry URL is set
    with pytest.raises(serialization.SerializationError, match="unknown serialization"):
        serialization.configure(format="protobuf")
    monkeypatch.delenv("TTXT_SCHEMA_REGISTRY_URL")
    serialization.reset()
    with pytest.raises(serialization.SerializationError, match="needs a schema registry"):
        serialization.settings()


# ---------------------------------------------------------------- the command


def test_registry_command_status(schema_registry_url: str) -> None:
    local = testing.local_test_registry()
    # With TTXT_SCHEMA_REGISTRY_URL set, `status` reports that one.
    args = ["status"] if local is None else ["status", "--state-dir", str(local.state_dir)]
    out = subprocess.run([sys.executable, "-m", "ttxt_kafka.cli", "registry", *args],
                         capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == schema_registry_url
    idle = subprocess.run([sys.executable, "-m", "ttxt_kafka.cli", "registry", "status",
                           "--state-dir", "/nonexistent/ttxt-registry"],
                          capture_output=True, text=True, timeout=60, check=False,
                          env={k: v for k, v in os.environ.items()
                               if k != "TTXT_SCHEMA_REGISTRY_URL"})
    assert idle.returncode == 1 and "not running" in idle.stdout


def test_cli_confluent_setting_finds_the_running_local_registry(schema_registry_url: str,
                                                                 tmp_path: Path) -> None:
    """TTXT_SERIALIZATION=confluent with no URL: the registry `ttxt registry start` runs is
    used (here: the session's, in its state dir, reached through XDG_CACHE_HOME); with none
    running, one clear line."""
    local = testing.local_test_registry()
    if local is None:
        pytest.skip("TTXT_SCHEMA_REGISTRY_URL is set: the local registry is not started")
    cache = tmp_path / "cache"
    (cache / "ttxt-kafka").mkdir(parents=True)
    (cache / "ttxt-kafka" / "registry-run").symlink_to(local.state_dir)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TTXT_SCHEMA_REGISTRY")}
    env.update(TTXT_SERIALIZATION="confluent", XDG_CACHE_HOME=str(cache))
    script = ("import sys; from ttxt_kafka import cli, serialization as s\n"
              "cli.main(sys.argv[1:]); print(s.settings().describe())")
    # `ttxt kafka status` needs nothing else; the setting is made before any command runs
    out = subprocess.run([sys.executable, "-c", script, "kafka", "status"], env=env,
                         capture_output=True, text=True, timeout=60, check=False)
    assert f"confluent via {schema_registry_url}" in out.stdout, out.stdout + out.stderr
    env["XDG_CACHE_HOME"] = str(tmp_path / "empty")
    none = subprocess.run([sys.executable, "-m", "ttxt_kafka.cli", "kafka", "status"], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert none.returncode == 2
    assert "needs a schema registry" in none.stderr and "ttxt registry start" in none.stderr


def test_pipeline_serialization_section(settings_reset: None) -> None:
    from ttxt_kafka.pipeline.config import PipelineError, parse_pipeline
    from ttxt_kafka.pipeline.runner import configure_cluster

    connector = {"venue": "binance", "symbols": ["BTC/USDT"], "streams": {"book": True}}
    pipeline = parse_pipeline({"connectors": [connector], "kafka": {"serialization": {
        "format": "confluent", "schema_registry_url": "https://registry.example:8081/",
        "username": "svc", "password": "s3cret", "subject_name_strategy": "record",
        "auto_register": False}}}, "p.yaml")
    assert "s3cret" not in repr(pipeline)
    configure_cluster(pipeline)
    s = serialization.settings()
    assert (s.format, s.registry_url, s.username, s.password, s.subject_strategy,
            s.auto_register) == ("confluent", "https://registry.example:8081", "svc", "s3cret",
                                 "record", False)
    assert "s3cret" not in s.describe()
    with pytest.raises(PipelineError, match="serialization"):
        parse_pipeline({"connectors": [connector],
                        "kafka": {"serialization": {"format": "protobuf"}}}, "p.yaml")
