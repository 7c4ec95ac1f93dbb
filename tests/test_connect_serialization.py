"""`kafka.serialization` in a `ttxt connect` file: the pipeline's section (same keys, same
checks), over the environment, under `ttxt --serialization / --schema-registry`."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ttxt_kafka import serialization
from ttxt_kafka.connectors.config import ConfigError, load_config, parse_config
from ttxt_kafka.pipeline.config import PipelineError, parse_pipeline

CONNECTOR = {"venue": "binance", "symbols": ["BTC/USDT"], "streams": {"book": True}}
FILE_URL = "http://registry.file.example:8081/apis/ccompat/v7"


@pytest.fixture(autouse=True)
def clean_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith(("TTXT_SERIALIZATION", "TTXT_SCHEMA_", "TTXT_SUBJECT_")):
            monkeypatch.delenv(name)
    serialization.reset()
    yield
    serialization.reset()


def config(**section: object) -> dict[str, object]:
    return {"connectors": [CONNECTOR], "kafka": {"serialization": section}}


@pytest.mark.parametrize(("section", "message"), [
    ({"format": "protobuf"}, "kafka.serialization.format: Input should be 'single-object' or "
                             "'confluent'"),
    ({"subject_name_strategy": "topic_name"}, "kafka.serialization.subject_name_strategy: "),
    ({"schema_registry_url": "registry:8081"}, "kafka.serialization.schema_registry_url: "
                                               "Value error, must start with http://"),
    ({"registry": FILE_URL}, "kafka.serialization.registry: unknown key"),
    ({"auto_register": "sometimes"}, "kafka.serialization.auto_register: "),
])
def test_a_broken_section_names_the_key(section: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match="invalid configuration") as err:
        parse_config(config(**section), "c.yaml")
    assert message in str(err.value)
    with pytest.raises(PipelineError) as perr:  # the pipeline's section: the same checks
        parse_pipeline(config(**section), "p.yaml")
    assert message.split(":")[0] in str(perr.value)


def test_confluent_without_a_registry_anywhere_is_a_clear_error() -> None:
    cfg = parse_config(config(format="confluent"), "c.yaml")
    with pytest.raises(ConfigError, match="c.yaml: kafka.serialization: the confluent "
                                          "serialization needs a schema registry"):
        cfg.kafka.serialization.apply("c.yaml")
    assert serialization.settings().format == "single-object"  # nothing changed


def test_file_over_environment_command_line_over_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TTXT_SCHEMA_REGISTRY_URL", "http://env.example:8081")
    monkeypatch.setenv("TTXT_SUBJECT_NAME_STRATEGY", "record")
    serialization.reset()
    cfg = parse_config(config(format="confluent", schema_registry_url=FILE_URL,
                              username="svc", password="s3cret"), "c.yaml")
    assert "s3cret" not in repr(cfg)
    s = cfg.kafka.serialization.apply("c.yaml")
    assert (s.format, s.registry_url, s.username, s.password, s.subject_strategy) == (
        "confluent", FILE_URL, "svc", "s3cret", "record")  # unset keys: the environment's
    # The command line's flags win over the file, whether they come before or after it.
    serialization.configure(registry_url="http://cli.example:8081", command_line=True)
    assert serialization.settings().registry_url == "http://cli.example:8081"
    s = cfg.kafka.serialization.apply("c.yaml")
    assert (s.format, s.registry_url, s.username) == ("confluent", "http://cli.example:8081",
                                                      "svc")
    # The processes `ttxt run --processes` starts get the same flags.
    assert serialization.command_line_args() == ["--schema-registry", "http://cli.example:8081"]
    # A file without the section leaves the setting alone.
    assert parse_config({"connectors": [CONNECTOR]}).kafka.serialization.apply() == s


def ttxt(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ttxt_kafka.cli", *args], capture_output=True,
                          text=True, timeout=60, check=False, env=env)


def test_connect_check_shows_the_files_serialization(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("kafka:\n  serialization:\n    format: confluent\n"
                    f"    schema_registry_url: {FILE_URL}\n    auto_register: false\n"
                    "connectors:\n  - {venue: binance, symbols: [BTC/USDT], "
                    "streams: {trades: true}}\n")
    assert load_config(path).kafka.serialization.auto_register is False
    env = {k: v for k, v in os.environ.items() if not k.startswith("TTXT_S")}
    env["TTXT_SCHEMA_REGISTRY_URL"] = "http://env.example:8081"
    out = ttxt("connect", str(path), "--check", env=env)
    assert out.returncode == 0, out.stderr
    assert f"serialization: confluent via {FILE_URL} (subjects: topic strategy, lookup only)" \
        in out.stdout
    out = ttxt("--schema-registry", "http://cli.example:8081", "connect", str(path), "--check",
               env=env)
    assert "serialization: confluent via http://cli.example:8081" in out.stdout, out.stderr
    out = ttxt("--serialization", "single-object", "connect", str(path), "--check", env=env)
    assert "serialization: single-object" in out.stdout, out.stderr
    path.write_text("kafka:\n  serialization: {format: confluent}\n"
                    "connectors:\n  - {venue: binance, symbols: [BTC/USDT], "
                    "streams: {trades: true}}\n")
    del env["TTXT_SCHEMA_REGISTRY_URL"]
    out = ttxt("connect", str(path), "--check", env=env)
    assert out.returncode == 2 and out.stdout == ""
    assert f"{path}: kafka.serialization: the confluent serialization needs a schema " \
           "registry" in out.stderr


def test_a_pipelines_connect_file_may_not_disagree(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text("kafka:\n  serialization: {format: single-object}\n"
                                     "connectors:\n  - {venue: binance, symbols: [BTC/USDT], "
                                     "streams: {trades: true}}\n")
    pipeline = {"connectors": [{"config": "c.yaml"}],
                "kafka": {"serialization": {"format": "confluent",
                                            "schema_registry_url": FILE_URL}}}
    with pytest.raises(PipelineError, match="sets kafka.serialization, which differs"):
        parse_pipeline(pipeline, "p.yaml", base_dir=tmp_path)
    pipeline["kafka"] = {"serialization": {"format": "single-object"}}
    assert parse_pipeline(pipeline, "p.yaml", base_dir=tmp_path).kafka.serialization.format == \
        "single-object"


def test_the_readmes_connector_configuration_is_valid() -> None:
    """The README's reference block (with its `kafka.serialization`) is a config that loads."""
    import yaml

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    block = readme.split("### Connector configuration", 1)[1].split("```yaml\n", 1)[1]
    cfg = parse_config(yaml.safe_load(block.split("```", 1)[0]), "README")
    ser = cfg.kafka.serialization
    assert (ser.format, ser.subject_name_strategy, ser.auto_register) == (
        "single-object", "topic", True)
    assert ser.apply("README").format == "single-object"


def test_the_confluent_flag_or_variable_with_the_url_in_the_file(tmp_path: Path) -> None:
    """`ttxt --serialization confluent connect` (or TTXT_SERIALIZATION=confluent) with the
    registry URL only in the file: no local registry needed, the file's URL is used."""
    path = tmp_path / "c.yaml"
    connectors = "connectors:\n  - {venue: binance, symbols: [BTC/USDT], streams: {trades: true}}\n"
    path.write_text(f"kafka:\n  serialization: {{schema_registry_url: '{FILE_URL}'}}\n"
                    + connectors)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TTXT_S")}
    env["XDG_CACHE_HOME"] = str(tmp_path / "empty")  # no local registry running there
    out = ttxt("--serialization", "confluent", "connect", str(path), "--check", env=env)
    assert out.returncode == 0, out.stderr
    assert f"serialization: confluent via {FILE_URL}" in out.stdout
    out = ttxt("connect", str(path), "--check", env={**env, "TTXT_SERIALIZATION": "confluent"})
    assert out.returncode == 0, out.stderr
    assert f"serialization: confluent via {FILE_URL}" in out.stdout
    # No URL in the file either: the file's key is named.
    path.write_text(connectors)
    out = ttxt("--serialization", "confluent", "connect", str(path), "--check", env=env)
    assert out.returncode == 2 and out.stdout == ""
    assert "kafka.serialization: the confluent serialization needs a schema registry" in \
        out.stderr and "kafka.serialization.schema_registry_url" in out.stderr
    # Other commands still say it at once.
    out = ttxt("--serialization", "confluent", "kafka", "status", env=env)
    assert out.returncode == 2 and "ttxt registry start" in out.stderr


@pytest.mark.kafka
def test_connect_writes_the_confluent_format_its_file_asks_for(
        kafka_bootstrap: str, schema_registry_url: str, tmp_path: Path) -> None:
    """End to end: `ttxt connect` with `kafka.serialization` in its file (nothing in the
    environment) frames what it publishes with the registry's ids, under its subjects."""
    import asyncio
    import json
    import urllib.request
    import uuid

    from aiokafka import AIOKafkaConsumer
    from test_connector_cli import ENV, TTXT, start_simulator, stop

    prefix = f"ser{uuid.uuid4().hex[:8]}"
    trades = f"{prefix}.binance.trades"
    sim, ws, rest = start_simulator("--venue", "binance", "--synthetic", "--rate", "50")
    env = {k: v for k, v in ENV.items() if not k.startswith("TTXT_S")}
    config = tmp_path / "connect.yaml"
    config.write_text(
        f"topic_prefix: {prefix}\n"
        f"kafka:\n  bootstrap_servers: '{kafka_bootstrap}'\n"
        f"  serialization: {{format: confluent, schema_registry_url: '{schema_registry_url}'}}\n"
        "connectors:\n  - venue: binance\n    symbols: [BTC/USDT]\n"
        f"    streams: {{trades: true}}\n    endpoints: {{ws: '{ws}', rest: '{rest}'}}\n")
    connect = subprocess.Popen([*TTXT, "connect", str(config)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env)

    async def first_records() -> list[bytes]:
        reader = AIOKafkaConsumer(trades, bootstrap_servers=kafka_bootstrap,
                                  auto_offset_reset="earliest")
        await reader.start()
        try:
            got: list[bytes] = []
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 60
            while len(got) < 5 and loop.time() < deadline and connect.poll() is None:
                batch = await reader.getmany(timeout_ms=500)
                got += [r.value for rs in batch.values() for r in rs if r.value is not None]
            return got
        finally:
            await reader.stop()

    try:
        values = asyncio.run(first_records())
    finally:
        code = stop(connect)
        stop(sim)
    err = connect.communicate()[1]
    assert len(values) >= 5, err
    assert {v[:1] for v in values} == {b"\x00"}  # Confluent: 00 + schema id, not C3 01
    with urllib.request.urlopen(f"{schema_registry_url}/subjects", timeout=10) as resp:
        assert f"{trades}-value" in json.load(resp)
    assert code == 0 and "Traceback" not in err, err
