"""A real Apache Kafka broker on 127.0.0.1, for machines without Docker.

The broker jars come from Maven Central (``kafka/pom.xml``, resolved once with ``mvn`` into the
user's cache dir); the broker runs as a detached JVM, KRaft single node (broker + controller),
with its state (config, data, log, pid) in one directory. Where ``KAFKA_BOOTSTRAP_SERVERS`` is
set, :func:`ensure_kafka` uses that cluster instead and starts nothing.

Layout::

    <cache>/ttxt-kafka/kafka-<version>/libs/*.jar   the broker's classpath (+ .complete stamp)
    <cache>/ttxt-kafka/run/                         default state dir: kafka.pid, server.properties,
                                                    log4j2.properties, data/, server.log, kafka.out

``<cache>`` is ``$XDG_CACHE_HOME`` or ``~/.cache``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import hashlib
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from .local_process import (
    LocalProcess,
    LocalSetupError,
    StillStarting,
    _file_lock,
)

log = logging.getLogger(__name__)

ENV_BOOTSTRAP = "KAFKA_BOOTSTRAP_SERVERS"
HOST = "127.0.0.1"
NODE_ID = 1
MIN_JAVA = 17

_ALTERNATIVE = (
    "Alternatively use any running cluster by setting KAFKA_BOOTSTRAP_SERVERS, e.g. with Docker: "
    "`docker compose up -d kafka` and KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092."
)

T = TypeVar("T")


class KafkaSetupError(LocalSetupError):
    """Kafka could not be found, fetched, started or reached. The message says what to do."""


def bootstrap_from_env() -> str | None:
    """``KAFKA_BOOTSTRAP_SERVERS`` if it is set to something, else None."""
    value = os.environ.get(ENV_BOOTSTRAP, "").strip()
    return value or None


# --------------------------------------------------------------------------- paths and versions


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/ttxt-kafka`` (or ``~/.cache/ttxt-kafka``)."""
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(base) if base else Path.home() / ".cache") / "ttxt-kafka"


def default_state_dir() -> Path:
    return cache_root() / "run"


def pom_path() -> Path:
    """The broker's pom: inside the installed wheel, or at the top of a source checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_kafka" / "pom.xml", here.parent / "kafka" / "pom.xml"):
        if candidate.is_file():
            return candidate
    raise KafkaSetupError(
        f"kafka/pom.xml is missing from this ttxt-kafka installation (looked next to {here}); "
        "reinstall the package."
    )


def kafka_version(pom: Path | None = None) -> str:
    """The ``org.apache.kafka:kafka_2.13`` version the pom asks for."""
    root = ET.parse(pom or pom_path()).getroot()
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    version = root.findtext("m:properties/m:kafka.version", namespaces=ns)
    if not version:
        raise KafkaSetupError("kafka/pom.xml has no <kafka.version> property")
    return version.strip()


# --------------------------------------------------------------------------- prerequisites


def _java_executable() -> str | None:
    java_home = os.environ.get("JAVA_HOME", "").strip()
    if java_home:
        candidate = Path(java_home) / "bin" / "java"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which("java")


def find_java() -> str:
    """Path of a Java 17+ ``java``, or KafkaSetupError saying what to install."""
    java = _java_executable()
    if java is None:
        raise KafkaSetupError(
            f"Java {MIN_JAVA}+ is needed to run the local Kafka broker, but `java` is not on "
            "PATH (nor in JAVA_HOME). Install a JDK and Maven "
            "(e.g. `apt install openjdk-17-jdk maven`). "
            + _ALTERNATIVE
        )
    try:
        out = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise KafkaSetupError(f"`{java} -version` failed: {exc}. " + _ALTERNATIVE) from exc
    text = out.stderr + out.stdout
    match = re.search(r'version "(\d+)(?:\.(\d+))?', text)
    major = 0
    if match:
        major = int(match.group(1))
        if major == 1 and match.group(2):  # "1.8.0_392" is Java 8
            major = int(match.group(2))
    if major < MIN_JAVA:
        found = text.strip().splitlines()[0] if text.strip() else "no version output"
        raise KafkaSetupError(
            f"Kafka needs Java {MIN_JAVA}+, but {java} is: {found}. Install a newer JDK "
            "(e.g. `apt install openjdk-17-jdk maven`) and put it first on PATH or in JAVA_HOME. "
            + _ALTERNATIVE
        )
    return java


def find_maven() -> str:
    """Path of a working ``mvn``, or KafkaSetupError saying what to install."""
    mvn = shutil.which("mvn")
    hint = (
        "Maven is needed once, to fetch the Kafka broker jars from Maven Central into "
        f"{cache_root()}; install it (e.g. `apt install openjdk-17-jdk maven`). "
    )
    if mvn is None:
        raise KafkaSetupError("Maven (`mvn`) is not on PATH. " + hint + _ALTERNATIVE)
    try:
        out = subprocess.run([mvn, "-v"], capture_output=True, text=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise KafkaSetupError(f"`mvn -v` failed: {exc}. " + hint + _ALTERNATIVE) from exc
    if out.returncode != 0:
        raise KafkaSetupError(
            f"`mvn -v` exited with {out.returncode}: {_tail(out.stdout + out.stderr, 5)} "
            + hint + _ALTERNATIVE
        )
    return mvn


# --------------------------------------------------------------------------- jars


def kafka_libs() -> Path:
    """The folder of broker jars, resolved with Maven the first time only.

    The ``.complete`` stamp holds the pom's sha256: while it matches, Maven is neither needed
    nor run; a changed pom (say a version bump) is resolved again.
    """
    pom = pom_path()
    pom_bytes = pom.read_bytes()
    digest = hashlib.sha256(pom_bytes).hexdigest()
    home = cache_root() / f"kafka-{kafka_version(pom)}"
    libs, stamp = home / "libs", home / ".complete"

    def complete() -> bool:
        try:
            return stamp.read_text().strip() == digest and any(libs.glob("kafka_2.13-*.jar"))
        except OSError:
            return False

    if complete():
        return libs
    with _file_lock(home / ".lock"):
        if complete():  # another process resolved it while we waited
            return libs
        mvn = find_maven()
        work = home / f"resolve-{os.getpid()}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        # Run on a copy: the installed pom may sit in a read-only site-packages.
        (work / "pom.xml").write_bytes(pom_bytes)
        out_dir = work / "libs"
        cmd = [
            mvn, "-B", "-q", "-Dstyle.color=never", "-f", str(work / "pom.xml"),
            "dependency:copy-dependencies", "-DincludeScope=runtime",
            f"-DoutputDirectory={out_dir}",
        ]
        log.info("fetching the Kafka broker jars with Maven (first run only) into %s", libs)
        started = time.monotonic()
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, check=False)
        except subprocess.TimeoutExpired as exc:
            shutil.rmtree(work, ignore_errors=True)
            raise KafkaSetupError("Maven took over 30 min to fetch the Kafka jars; "
                                  "check the network access to Maven Central. "
                                  + _ALTERNATIVE) from exc
        if proc.returncode != 0 or not any(out_dir.glob("kafka_2.13-*.jar")):
            shutil.rmtree(work, ignore_errors=True)
            raise KafkaSetupError(
                f"Maven could not fetch the Kafka broker jars (exit {proc.returncode}): "
                f"{_tail(proc.stdout + proc.stderr, 15)}\nCommand: {' '.join(cmd)}\n"
                + _ALTERNATIVE
            )
        shutil.rmtree(libs, ignore_errors=True)
        out_dir.rename(libs)
        shutil.rmtree(work, ignore_errors=True)
        stamp.write_text(digest + "\n")
        log.info("Kafka jars ready in %.1fs", time.monotonic() - started)
    return libs


# --------------------------------------------------------------------------- readiness


def _split_hostport(bootstrap: str) -> None:
    for part in bootstrap.split(","):
        host, sep, port = part.strip().rpartition(":")
        if not sep or not host or not port.isdigit():
            raise KafkaSetupError(
                f"invalid Kafka bootstrap address {bootstrap!r}: expected host:port[,host:port...]"
            )


@contextlib.contextmanager
def _quiet_aiokafka() -> Iterator[None]:
    """aiokafka logs every refused connection at ERROR; while polling, those are expected."""
    logger = logging.getLogger("aiokafka")
    previous = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(previous)


async def _probe(bootstrap: str, timeout: float) -> None:
    """One real round trip: bootstrap, then a Metadata request that must name a broker."""
    from aiokafka.admin import AIOKafkaAdminClient

    from .cluster import client_options

    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap,
        request_timeout_ms=max(500, int(timeout * 1000)),
        client_id="ttxt-kafka-readiness",
        **client_options(),
    )
    try:
        await asyncio.wait_for(admin.start(), timeout)
        cluster = await asyncio.wait_for(admin.describe_cluster(), timeout)
        if not cluster.get("brokers"):
            raise RuntimeError("the cluster reported no live broker")
    finally:
        with contextlib.suppress(Exception):
            await admin.close()


def _run_blocking(factory: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion from sync code, even when called inside a running loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_as_coro(factory))
    # Called from async code (a test, a service): a loop of our own in a helper thread.
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(_as_coro(factory))
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target, name="ttxt-kafka-wait", daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


async def _as_coro(factory: Callable[[], Awaitable[T]]) -> T:
    return await factory()


def _wait_ready(
    bootstrap: str, timeout: float, still_starting: Callable[[], None] | None = None
) -> None:
    _split_hostport(bootstrap)
    deadline = time.monotonic() + timeout
    delay = 0.1
    last = "no attempt made"
    with _quiet_aiokafka():
        while True:
            if still_starting is not None:
                still_starting()  # raises if the broker process died
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                attempt = min(5.0, max(0.2, remaining))
                _run_blocking(functools.partial(_probe, bootstrap, attempt))
                return
            except Exception as exc:  # any failure means "not ready yet"
                text = str(exc).strip()
                name = type(exc).__name__
                last = text if text.startswith(name) else f"{name}: {text}".rstrip(": ")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, 1.0)
    raise KafkaSetupError(
        f"Kafka at {bootstrap} did not answer within {timeout:g}s (last error: {last})"
    )


def wait_for_broker(bootstrap: str, timeout: float) -> None:
    """Return once a real client call to ``bootstrap`` succeeds; KafkaSetupError on timeout.

    Readiness is an aiokafka admin round trip (bootstrap + cluster metadata naming a broker),
    retried with backoff (0.1 s doubling to 1 s), never a log line.
    """
    _wait_ready(bootstrap, timeout)


# --------------------------------------------------------------------------- the broker


def _tail(text: str, lines: int) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _tail_file(path: Path, lines: int = 30, since: int = 0) -> str:
    """The last lines of a log written after byte ``since`` (this run's part of an appended
    log), without Java stack frames: the exception's own line says enough."""
    try:
        with open(path, "rb") as handle:
            end = handle.seek(0, os.SEEK_END)
            handle.seek(max(since if since <= end else 0, end - 64 * 1024))
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return ""
    kept = [line for line in text.splitlines() if not re.match(r"\s+(at |\.\.\. \d+ more)", line)]
    return _tail("\n".join(kept), lines)


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Java binds with SO_REUSEADDR too, so only a live listener (not TIME_WAIT leftovers
        # of a previous run) makes the port busy, for this probe as for the broker.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def _free_port(exclude: set[int]) -> int:
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((HOST, 0))
            port = int(sock.getsockname()[1])
        if port not in exclude:
            return port
    raise KafkaSetupError("could not find a free TCP port on 127.0.0.1")


def _random_cluster_id() -> str:
    """Kafka's Uuid text form: url-safe base64 of 16 random bytes, never starting with '-'."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


def _read_properties(path: Path) -> dict[str, str]:
    props: dict[str, str] = {}
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return props
    for line in lines:
        line = line.strip()
        if line and not line.startswith(("#", "!")) and "=" in line:
            key, _, value = line.partition("=")
            props[key.strip()] = value.strip()
    return props


def _listener_port(props: dict[str, str], name: str) -> int | None:
    match = re.search(rf"{name}://[^,:]*:(\d+)", props.get("listeners", ""))
    return int(match.group(1)) if match else None


def _server_properties(data_dir: Path, port: int, controller_port: int,
                       node_id: int = NODE_ID, voters: str | None = None,
                       replication: int = 1, initial_rebalance_delay_ms: int = 0) -> str:
    voters = voters or f"{node_id}@{HOST}:{controller_port}"
    min_isr = 2 if replication >= 3 else 1
    return f"""\
# Written by ttxt_kafka.local_kafka at every start; edits are overwritten.
# KRaft: this process is both a broker and a controller (the only one, or one of a local
# cluster's: see controller.quorum.voters).
process.roles=broker,controller
node.id={node_id}
listeners=PLAINTEXT://{HOST}:{port},CONTROLLER://{HOST}:{controller_port}
advertised.listeners=PLAINTEXT://{HOST}:{port}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
# A static voter set: the storage is formatted without --standalone, and the controller port
# may change between runs (a dynamic quorum records the voter's endpoint in the metadata log).
controller.quorum.voters={voters}
log.dirs={data_dir}

# Replicas: one on a single broker; on a local 3-node cluster 3, and a write is acknowledged
# (acks=all) once 2 of them have it, so one node can fail without losing acknowledged records.
offsets.topic.replication.factor={replication}
transaction.state.log.replication.factor={replication}
transaction.state.log.min.isr={min_isr}
share.coordinator.state.topic.replication.factor={replication}
share.coordinator.state.topic.min.isr={min_isr}
default.replication.factor={replication}
min.insync.replicas={min_isr}

# Consumer groups form at once instead of waiting 3 s for more members (tests, the demo);
# Kafka's default (3000) where members that start together should share from the start.
group.initial.rebalance.delay.ms={initial_rebalance_delay_ms}
auto.create.topics.enable=true
# Three partitions for auto-created topics: more than one, so per-key ordering and
# consumer-group balancing are exercised locally as on a real cluster; few, for 2 cores.
num.partitions=3

# Retention by size, not by time: records carry the exchange's time as their timestamp, so
# replayed or recorded history (last year's data) would be deleted at once by a 7-day time
# retention. 1 GiB per partition bounds the disk a local broker can take.
log.retention.ms=-1
log.retention.bytes=1073741824
"""


def _log4j2_properties(log_file: Path) -> str:
    # Quiet: warnings and errors, plus the one INFO line saying the server started or stopped.
    return f"""\
# Written by ttxt_kafka.local_kafka at every start; edits are overwritten.
status = warn
appender.file.type = RollingFile
appender.file.name = file
appender.file.fileName = {log_file}
appender.file.filePattern = {log_file}.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 10MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3
rootLogger.level = WARN
rootLogger.appenderRef.file.ref = file
logger.server.name = kafka.server.KafkaRaftServer
logger.server.level = INFO
logger.kafka.name = kafka.Kafka$
logger.kafka.level = INFO
"""


# Modest for a dev machine with 2 cores; G1 with short pauses as Kafka's own scripts use.
JVM_OPTS = [
    "-Xms256m", "-Xmx1g", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35", "-XX:+ExplicitGCInvokesConcurrent",
    "-Djava.awt.headless=true",
]


def _env_jvm_opts() -> list[str]:
    """`TTXT_KAFKA_JVM_OPTS`, split on spaces: options in place of `JVM_OPTS` (e.g. a GC log)."""
    return os.environ.get("TTXT_KAFKA_JVM_OPTS", "").split()


class LocalKafka(LocalProcess):
    """A single-node KRaft broker on 127.0.0.1 whose state lives in ``state_dir``.

    The data dir is kept across stop/start, like a real cluster's: topics and offsets survive a
    restart (a recorder or a rewinding replay expects that), and ports are reused when still
    free, so the address stays the same. Delete ``state_dir`` for a clean broker.
    """

    what = "Kafka"
    noun = "broker"
    error = KafkaSetupError

    def __init__(
        self,
        state_dir: Path | None = None,
        port: int | None = None,
        controller_port: int | None = None,
        *,
        node_id: int = NODE_ID,
        voters: str | None = None,
        cluster_id: str | None = None,
        replication: int = 1,
        jvm_opts: list[str] | None = None,
        initial_rebalance_delay_ms: int = 0,
    ) -> None:
        super().__init__(state_dir if state_dir is not None else default_state_dir(), port)
        # How long a new consumer group waits for more members before its first assignment.
        self.initial_rebalance_delay_ms = initial_rebalance_delay_ms
        self.controller_port = controller_port
        # A node of a LocalCluster: its id, the cluster's voters and id, its replication.
        self.node_id = node_id
        self.voters = voters
        self.cluster_id = cluster_id
        self.replication = replication
        self.jvm_opts = jvm_opts or _env_jvm_opts() or JVM_OPTS

    # paths
    @property
    def log_file(self) -> Path:
        return self.state_dir / "server.log"

    @property
    def pid_file(self) -> Path:
        return self.state_dir / "kafka.pid"

    @property
    def config_file(self) -> Path:
        return self.state_dir / "server.properties"

    @property
    def data_dir(self) -> Path:
        return self.state_dir / "data"

    @property
    def _out_file(self) -> Path:  # the JVM's stdout/stderr (crashes before logging starts)
        return self.state_dir / "kafka.out"

    # what LocalProcess asks
    def _markers(self) -> tuple[bytes, ...]:
        return b"kafka.Kafka", str(self.config_file).encode()  # kafka.Kafka on our config

    def _saved_address(self) -> str | None:
        port = _listener_port(_read_properties(self.config_file), "PLAINTEXT")
        return f"{HOST}:{port}" if port else None

    def _address_of_running(self, pid: int) -> str:
        bootstrap = self._saved_address()
        if bootstrap is None:
            raise KafkaSetupError(
                f"a Kafka process (pid {pid}) runs from {self.state_dir} but its "
                f"{self.config_file.name} names no PLAINTEXT listener; "
                "stop it with `ttxt kafka stop`"
            )
        if self.port is not None and bootstrap != f"{HOST}:{self.port}":
            raise KafkaSetupError(
                f"the local Kafka broker already runs at {bootstrap}, not on the "
                f"requested port {self.port}; stop it first with `ttxt kafka stop`"
            )
        return bootstrap

    def _wait_ready(self, address: str, timeout: float,
                    still_starting: StillStarting | None = None) -> None:
        _wait_ready(address, timeout, still_starting)

    def _choose_ports(self) -> tuple[int, int]:
        previous = _read_properties(self.config_file)
        taken: set[int] = set()
        ports: list[int] = []
        for given, name, what in (
            (self.port, "PLAINTEXT", "port"),
            (self.controller_port, "CONTROLLER", "controller port"),
        ):
            if given is not None:
                if given in taken or not _port_is_free(given):
                    raise KafkaSetupError(
                        f"cannot start Kafka: the requested {what} {given} on {HOST} is already "
                        "in use; stop what listens there or choose another port "
                        "(omit --port to pick a free one)"
                    )
                port = given
            else:
                # Same port as last run when free, so the address is stable across restarts.
                old = _listener_port(previous, name)
                reuse = old is not None and old not in taken and _port_is_free(old)
                port = old if old is not None and reuse else _free_port(taken)
            taken.add(port)
            ports.append(port)
        return ports[0], ports[1]

    def _launch(self, timeout: float, wait: bool = True) -> str:
        started = time.monotonic()
        port, controller_port = self._choose_ports()
        java = find_java()
        libs = kafka_libs()
        classpath = str(libs / "*")

        log4j_file = self.state_dir / "log4j2.properties"
        log4j_file.write_text(_log4j2_properties(self.log_file))
        self.config_file.write_text(_server_properties(
            self.data_dir, port, controller_port, self.node_id, self.voters, self.replication,
            self.initial_rebalance_delay_ms))
        java_cmd = [java, *self.jvm_opts, f"-Dlog4j2.configurationFile={log4j_file}",
                    "-cp", classpath]

        if not (self.data_dir / "meta.properties").exists():
            # A half-formatted dir from a crash would make the format refuse; start clean.
            shutil.rmtree(self.data_dir, ignore_errors=True)
            fmt = subprocess.run(
                [*java_cmd, "kafka.tools.StorageTool", "format",
                 "-t", self.cluster_id or _random_cluster_id(), "-c", str(self.config_file)],
                capture_output=True, text=True, timeout=max(60.0, timeout), check=False,
            )
            if fmt.returncode != 0:
                raise KafkaSetupError(
                    f"formatting Kafka storage in {self.data_dir} failed "
                    f"(exit {fmt.returncode}): {_tail(fmt.stdout + fmt.stderr, 15)}"
                )

        proc = self._spawn([*java_cmd, "kafka.Kafka", str(self.config_file)], self._out_file,
                           append=False)
        bootstrap = f"{HOST}:{port}"
        if not wait:  # a cluster node: ready once enough of its peers run (LocalCluster waits)
            return bootstrap

        self._await_ready(proc, bootstrap, timeout, started)
        log.info("Kafka %s ready at %s in %.1fs (log: %s)", kafka_version(), bootstrap,
                 time.monotonic() - started, self.log_file)
        return bootstrap

    def _log_tails(self) -> str:
        parts = [
            t
            for t in (
                _tail_file(self._out_file, 10),
                _tail_file(self.log_file, 20, since=self._log_offset),
            )
            if t
        ]
        return "\n".join(parts) or "(nothing)"

    def _died_message(self, code: int) -> str:
        return (
            f"the Kafka broker exited with code {code} while starting "
            f"(a broken state? delete {self.state_dir} for a fresh broker). "
            f"Log {self.log_file} ends with:\n{self._log_tails()}"
        )

    def kill(self) -> None:
        """SIGKILL the broker (a crash, for failover tests); its state stays for a restart."""
        pid = self.pid()
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10.0
        while self._alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        self._clear_markers()
        self._proc = None

    def check_alive(self) -> None:
        """Raise KafkaSetupError if a broker this object launched has exited."""
        proc = self._proc
        if proc is not None and proc.poll() is not None:
            self._clear_markers()
            raise KafkaSetupError(self._died_message(proc.returncode))


# Lighter JVMs for the nodes of a local cluster: three of them share a developer's machine.
CLUSTER_JVM_OPTS = [
    "-Xms128m", "-Xmx512m", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35", "-XX:+ExplicitGCInvokesConcurrent",
    "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true",
]


class LocalCluster:
    """A local KRaft cluster of `nodes` processes on 127.0.0.1, each a broker and a controller
    (a static voter set), for trying failover on one machine before deploying: replication
    factor 3 and min.insync.replicas=2 for the internal topics and the ones ttxt creates.

    Each node is a `LocalKafka` in ``state_dir/node-<id>``; the cluster id is kept in
    ``state_dir/cluster.id``; ports are kept across restarts when free. `node(i)` gives one
    node to stop, kill or start on its own.
    """

    def __init__(self, state_dir: Path | None = None, nodes: int = 3) -> None:
        if nodes < 1:
            raise KafkaSetupError("a cluster needs at least one node")
        self.state_dir = (Path(state_dir) if state_dir is not None
                          else cache_root() / "cluster").expanduser().resolve()
        found = sorted(self.state_dir.glob("node-*"))
        self.size = max(nodes, len(found)) if found else nodes
        replication = min(3, self.size)
        self.nodes = [
            LocalKafka(self.state_dir / f"node-{i}", node_id=i, replication=replication,
                       jvm_opts=CLUSTER_JVM_OPTS)
            for i in range(1, self.size + 1)
        ]

    @staticmethod
    def is_cluster_dir(path: Path) -> bool:
        return (Path(path) / "node-1").is_dir()

    def node(self, node_id: int) -> LocalKafka:
        return self.nodes[node_id - 1]

    @property
    def bootstrap(self) -> str:
        ports = [_listener_port(_read_properties(n.config_file), "PLAINTEXT") for n in self.nodes]
        return ",".join(f"{HOST}:{p}" for p in ports if p)

    def _cluster_id(self) -> str:
        path = self.state_dir / "cluster.id"
        try:
            return path.read_text().strip()
        except OSError:
            cid = _random_cluster_id()
            path.write_text(cid + "\n")
            return cid

    def start(self, timeout: float = 180.0) -> str:
        """Start every node not running (all together: a quorum needs a majority), wait until
        the cluster answers with all its brokers; return the bootstrap list."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with _file_lock(self.state_dir / ".lock"):
            cid = self._cluster_id()
            taken: set[int] = set()
            for node in self.nodes:  # the same ports as before when free
                node.state_dir.mkdir(parents=True, exist_ok=True)
                props = _read_properties(node.config_file)
                running = node.pid() is not None
                for attr, name in (("port", "PLAINTEXT"), ("controller_port", "CONTROLLER")):
                    old = _listener_port(props, name)
                    if old is not None and old not in taken and (running or _port_is_free(old)):
                        port = old
                    else:
                        port = _free_port(taken)
                    taken.add(port)
                    setattr(node, attr, port)
            voters = ",".join(f"{n.node_id}@{HOST}:{n.controller_port}" for n in self.nodes)
            for node in self.nodes:
                node.voters, node.cluster_id = voters, cid
                if node.pid() is None:
                    node._clear_markers()
                    node._launch(timeout, wait=False)
            bootstrap = self.bootstrap

            def still_starting() -> None:
                for node in self.nodes:
                    node.check_alive()

            try:
                _wait_ready(bootstrap, timeout, still_starting)
                _wait_brokers(bootstrap, len(self.nodes), timeout)
            except KafkaSetupError:
                for node in self.nodes:
                    with contextlib.suppress(KafkaSetupError, OSError):
                        node.stop(timeout=10.0)
                raise
        log.info("local Kafka cluster of %d nodes ready at %s", len(self.nodes), bootstrap)
        return bootstrap

    def start_node(self, node_id: int, timeout: float = 120.0) -> str:
        """Start one node again (after `stop_node` or `kill_node`) on its former ports."""
        node = self.node(node_id)
        props = _read_properties(node.config_file)
        node.port = _listener_port(props, "PLAINTEXT")
        node.controller_port = _listener_port(props, "CONTROLLER")
        node.voters = props.get("controller.quorum.voters")
        node.cluster_id = self._cluster_id()
        return node.start(timeout)

    def status(self) -> str | None:
        """The bootstrap list if every node runs and the cluster answers, else None."""
        if any(n.pid() is None for n in self.nodes):
            return None
        try:
            _wait_ready(self.bootstrap, timeout=5.0)
        except KafkaSetupError:
            return None
        return self.bootstrap

    def pids(self) -> list[int | None]:
        return [n.pid() for n in self.nodes]

    def stop(self, timeout: float = 20.0) -> None:
        """Stop every node at once (SIGTERM, then SIGKILL after ``timeout``): one by one, the
        last would wait in vain for a quorum to shut down in a controlled way."""
        errors: list[str] = []

        def stop(node: LocalKafka) -> None:
            try:
                node.stop(timeout)
            except (KafkaSetupError, OSError) as exc:
                errors.append(str(exc))

        threads = [threading.Thread(target=stop, args=(n,)) for n in self.nodes]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise KafkaSetupError("; ".join(errors))


def _wait_brokers(bootstrap: str, n: int, timeout: float) -> None:
    """Wait until the cluster's metadata names `n` live brokers."""

    async def count() -> int:
        from aiokafka.admin import AIOKafkaAdminClient

        from .cluster import client_options

        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000,
                                    client_id="ttxt-kafka-readiness", **client_options())
        try:
            await asyncio.wait_for(admin.start(), 5.0)
            cluster = await asyncio.wait_for(admin.describe_cluster(), 5.0)
            return len(cluster.get("brokers") or [])
        finally:
            with contextlib.suppress(Exception):
                await admin.close()

    deadline = time.monotonic() + timeout
    while True:
        with _quiet_aiokafka(), contextlib.suppress(Exception):
            if _run_blocking(count) >= n:
                return
        if time.monotonic() > deadline:
            raise KafkaSetupError(f"the local cluster at {bootstrap} did not show {n} brokers "
                                  f"within {timeout:.0f}s")
        time.sleep(0.5)


def ensure_kafka(state_dir: Path | None = None) -> str:
    """A Kafka bootstrap address to use: ``KAFKA_BOOTSTRAP_SERVERS`` if set (once it answers),
    else the local broker, started if it is not running yet."""
    env = bootstrap_from_env()
    if env is not None:
        try:
            wait_for_broker(env, timeout=60.0)
        except KafkaSetupError as exc:
            raise KafkaSetupError(f"{ENV_BOOTSTRAP} is set: {exc}") from None
        return env
    return LocalKafka(state_dir=state_dir).start()


__all__ = [
    "ENV_BOOTSTRAP",
    "KafkaSetupError",
    "LocalCluster",
    "LocalKafka",
    "bootstrap_from_env",
    "cache_root",
    "default_state_dir",
    "ensure_kafka",
    "find_java",
    "find_maven",
    "kafka_libs",
    "kafka_version",
    "wait_for_broker",
]
