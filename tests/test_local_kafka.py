"""The local Kafka launcher, against real brokers (no mocks, no fakes)."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from ttxt_kafka import testing
from ttxt_kafka.local_kafka import (
    ENV_BOOTSTRAP,
    KafkaSetupError,
    LocalKafka,
    bootstrap_from_env,
    ensure_kafka,
    kafka_libs,
    wait_for_broker,
)

needs_local = pytest.mark.skipif(
    bootstrap_from_env() is not None,
    reason=f"{ENV_BOOTSTRAP} is set: the local broker launcher is not what is under test",
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(**changes: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != ENV_BOOTSTRAP}
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def _cli(*args: str, env: dict[str, str] | None = None, timeout: float = 180.0) -> (
    subprocess.CompletedProcess[str]
):
    return subprocess.run(
        [sys.executable, "-m", "ttxt_kafka.cli", "kafka", *args],
        capture_output=True, text=True, timeout=timeout, check=False,
        env=env if env is not None else _env(),
    )


async def _produce(bootstrap: str, topic: str, value: bytes) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=b"BTC/USDT")
    finally:
        await producer.stop()


async def _consume_one(bootstrap: str, topic: str) -> bytes:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=f"g-{uuid.uuid4().hex}",
        auto_offset_reset="earliest", enable_auto_commit=False,
    )
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), 60)
    finally:
        await consumer.stop()
    assert record.value is not None
    return record.value


@pytest.fixture
def state_dir(tmp_path: Path) -> Iterator[Path]:
    state = tmp_path / "state"
    yield state
    LocalKafka(state_dir=state).stop()  # never leave a broker behind a failed test


# ---------------------------------------------------------------- a broker of its own


@needs_local
async def test_lifecycle_api_then_cli(state_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_BOOTSTRAP, raising=False)
    # A stale pid file (its process is gone) must not block the start.
    dead = subprocess.Popen(["true"])
    dead.wait()
    state_dir.mkdir(parents=True)
    (state_dir / "kafka.pid").write_text(f"{dead.pid}\n")

    kafka = LocalKafka(state_dir=state_dir)
    assert kafka.status() is None
    bootstrap = kafka.start()
    assert bootstrap.startswith("127.0.0.1:")
    assert kafka.status() == bootstrap
    assert kafka.pid() is not None
    # Log4j2 really writes the broker's log (the SLF4J binding is on the classpath).
    assert "Kafka Server started" in kafka.log_file.read_text()

    topic = f"t-{uuid.uuid4().hex[:8]}"
    await _produce(bootstrap, topic, b"hello")
    assert await _consume_one(bootstrap, topic) == b"hello"

    kafka.stop()
    assert kafka.status() is None
    assert not (state_dir / "kafka.pid").exists()

    # Second start, through the CLI: it returns while the broker keeps running (own session),
    # on the same port and with the same data (the record is still there).
    started = _cli("start", "--state-dir", str(state_dir))
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == bootstrap
    status = _cli("status", "--state-dir", str(state_dir))
    assert (status.returncode, status.stdout.strip()) == (0, bootstrap)
    assert await _consume_one(bootstrap, topic) == b"hello"

    stopped = _cli("stop", "--state-dir", str(state_dir))
    assert stopped.returncode == 0, stopped.stderr
    status = _cli("status", "--state-dir", str(state_dir))
    assert status.returncode == 1
    assert "not running" in status.stdout


@needs_local
def test_the_brokers_jvm_options_come_from_the_environment(
        state_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`TTXT_KAFKA_JVM_OPTS` replaces the local broker's JVM options (a GC log, another
    collector, a bigger heap), and the broker runs with them."""
    monkeypatch.delenv(ENV_BOOTSTRAP, raising=False)
    monkeypatch.setenv("TTXT_KAFKA_JVM_OPTS", "-Xmx384m -XX:+UseSerialGC -Dttxt.marker=jvm")
    kafka = LocalKafka(state_dir=state_dir)
    try:
        kafka.start(timeout=120)
        pid = kafka.pid()
        assert pid is not None
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        assert cmdline[1:4] == [b"-Xmx384m", b"-XX:+UseSerialGC", b"-Dttxt.marker=jvm"]
        assert b"-XX:+UseG1GC" not in cmdline
    finally:
        kafka.stop()


@needs_local
def test_broker_dying_at_startup_reports_its_log(state_dir: Path) -> None:
    # Storage formatted for another node id: the broker refuses to start and exits.
    data = state_dir / "data"
    data.mkdir(parents=True)
    (data / "meta.properties").write_text(
        "version=1\nnode.id=7\ncluster.id=AAAAAAAAAAAAAAAAAAAAAA\n"
        "directory.id=AAAAAAAAAAAAAAAAAAAAAQ\n"
    )
    kafka = LocalKafka(state_dir=state_dir)
    with pytest.raises(KafkaSetupError) as info:
        kafka.start(timeout=60)
    message = str(info.value)
    assert "exited with code" in message
    assert str(kafka.log_file) in message
    assert len(message.splitlines()) > 1  # the log's tail is included
    assert not (state_dir / "kafka.pid").exists()


# ---------------------------------------------------------------- the session broker


@needs_local
def test_start_is_idempotent(kafka_bootstrap: str) -> None:
    running = testing.local_test_broker()
    assert running is not None
    pid = running.pid()
    again = LocalKafka(state_dir=running.state_dir)
    started = time.monotonic()
    assert again.start() == kafka_bootstrap
    assert time.monotonic() - started < 10
    assert again.pid() == pid


async def test_ensure_kafka_uses_env_cluster(
    kafka_bootstrap: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Called from async code on purpose: the readiness check must not need its own loop here.
    monkeypatch.setenv(ENV_BOOTSTRAP, f"  {kafka_bootstrap}  ")
    assert bootstrap_from_env() == kafka_bootstrap
    state = tmp_path / "never-created"
    assert ensure_kafka(state_dir=state) == kafka_bootstrap
    assert not state.exists()  # nothing was started, not even a state dir


def test_bootstrap_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_BOOTSTRAP, raising=False)
    assert bootstrap_from_env() is None
    monkeypatch.setenv(ENV_BOOTSTRAP, "   ")
    assert bootstrap_from_env() is None


def test_cli_with_env_cluster(kafka_bootstrap: str) -> None:
    env = _env(**{ENV_BOOTSTRAP: kafka_bootstrap})
    for action in ("start", "status"):
        result = _cli(action, env=env)
        assert (result.returncode, result.stdout.strip()) == (0, kafka_bootstrap), result.stderr
    result = _cli("stop", env=env)
    assert result.returncode == 0
    assert "no local broker to stop" in result.stdout


async def test_session_broker_round_trip(kafka_bootstrap: str) -> None:
    topic = f"t-{uuid.uuid4().hex[:8]}"
    await _produce(kafka_bootstrap, topic, b"x")
    assert await _consume_one(kafka_bootstrap, topic) == b"x"


@needs_local
def test_cached_jars_need_no_maven(kafka_bootstrap: str, tmp_path: Path) -> None:
    libs = kafka_libs()
    # PATH without mvn (nor java): the cached jars are found without running Maven.
    code = "from ttxt_kafka.local_kafka import kafka_libs; print(kafka_libs())"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True, text=True, timeout=60, check=False,
        env=_env(PATH=str(tmp_path)),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(libs)


# ---------------------------------------------------------------- clear errors, no broker


def test_busy_port_is_named(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(KafkaSetupError, match=rf"\b{port}\b.*already in use"):
            LocalKafka(state_dir=tmp_path / "a", port=port).start()
        with pytest.raises(KafkaSetupError, match=rf"controller port {port}\b"):
            LocalKafka(state_dir=tmp_path / "b", controller_port=port).start()
        result = _cli("start", "--state-dir", str(tmp_path / "c"), "--port", str(port))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert str(port) in result.stderr


def test_wait_for_broker_times_out_naming_the_address() -> None:
    address = f"127.0.0.1:{_free_port()}"
    started = time.monotonic()
    with pytest.raises(KafkaSetupError, match=address):
        wait_for_broker(address, timeout=2.0)
    assert time.monotonic() - started < 5.0


def test_invalid_bootstrap_is_clear() -> None:
    with pytest.raises(KafkaSetupError, match="host:port"):
        wait_for_broker("no-port-here", timeout=1.0)


def test_missing_java_says_what_to_install(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    result = _cli(
        "start", "--state-dir", str(tmp_path / "state"),
        env=_env(PATH=str(empty), JAVA_HOME=None),
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1
    assert "Java 17+" in result.stderr
    assert "apt install openjdk-17-jdk maven" in result.stderr
    assert "docker compose up" in result.stderr and ENV_BOOTSTRAP in result.stderr


@needs_local
def test_missing_maven_says_what_to_install(tmp_path: Path) -> None:
    java = shutil.which("java")
    assert java is not None
    only_java = tmp_path / "bin"
    only_java.mkdir()
    (only_java / "java").symlink_to(os.path.realpath(java))
    result = _cli(
        "start", "--state-dir", str(tmp_path / "state"),
        # An empty cache: the jars would have to be fetched, so Maven is needed.
        env=_env(PATH=str(only_java), JAVA_HOME=None, XDG_CACHE_HOME=str(tmp_path / "cache")),
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1
    assert "Maven" in result.stderr and "apt install" in result.stderr
    assert ENV_BOOTSTRAP in result.stderr
