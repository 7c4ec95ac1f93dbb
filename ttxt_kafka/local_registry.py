"""A real schema registry on 127.0.0.1 (Apicurio Registry), started like the local Kafka broker.

The registry is assembled once from Maven Central (``schema_registry/pom.xml``: Apicurio's
application jar re-augmented by the Quarkus Maven plugin; the pom says why version 2.4.2.Final)
into the user's cache dir, then runs as a detached JVM whose state (H2 database file, port, pid,
log) lives in one directory, so schema ids survive a restart: records in Kafka keep naming them.
Its Confluent-compatible API is ``<url>/apis/ccompat/v7``, the URL ``ttxt registry start``
prints (what ``TTXT_SCHEMA_REGISTRY_URL`` and confluent-kafka's ``SchemaRegistryClient`` take).

Where ``TTXT_SCHEMA_REGISTRY_URL`` is set, :func:`ensure_registry` uses that registry instead.

Layout::

    <cache>/ttxt-kafka/apicurio-registry-<version>/app/   the runnable registry (+ .complete stamp)
    <cache>/ttxt-kafka/registry-run/                      state: registry.pid, registry.port,
                                                          data/ (H2), registry.log
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

from .local_kafka import (
    HOST,
    KafkaSetupError,
    _free_port,
    _port_is_free,
    _tail,
    _tail_file,
    cache_root,
    find_java,
    find_maven,
)
from .local_process import LocalProcess, StillStarting, _file_lock

log = logging.getLogger(__name__)

ENV_URL = "TTXT_SCHEMA_REGISTRY_URL"
CCOMPAT_PATH = "/apis/ccompat/v7"
RUNNER_GLOB = "*-runner.jar"

# One small JVM: a registry holds a few dozen schemas here. C1 only and the serial collector
# start it faster and keep it light on a 2-core machine.
JVM_OPTS = ["-Xms64m", "-Xmx384m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
            "-Djava.awt.headless=true"]


class RegistrySetupError(KafkaSetupError):
    """The registry could not be built, started or reached. The message says what to do."""


def url_from_env() -> str | None:
    value = os.environ.get(ENV_URL, "").strip()
    return value.rstrip("/") or None


def pom_dir() -> Path:
    """The registry's Maven build: inside the installed wheel, or at the top of a checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_schema_registry", here.parent / "schema_registry"):
        if (candidate / "pom.xml").is_file():
            return candidate
    raise RegistrySetupError(
        f"schema_registry/pom.xml is missing from this ttxt-kafka installation (looked next to "
        f"{here}); reinstall the package."
    )


def registry_version(build: Path | None = None) -> str:
    root = ET.parse((build or pom_dir()) / "pom.xml").getroot()
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    version = root.findtext("m:properties/m:apicurio.version", namespaces=ns)
    if not version:
        raise RegistrySetupError("schema_registry/pom.xml has no <apicurio.version> property")
    return version.strip()


def _build_digest(build: Path) -> str:
    """sha256 over every file of the build (names and bytes): a changed pom builds again."""
    digest = hashlib.sha256()
    for path in sorted(p for p in build.rglob("*") if p.is_file() and "target" not in p.parts):
        digest.update(str(path.relative_to(build)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def registry_app() -> Path:
    """The folder of the runnable registry (runner jar + lib/), built with Maven the first
    time only (a few minutes: Maven fetches ~230 MB); later calls only check the stamp."""
    build = pom_dir()
    digest = _build_digest(build)
    home = cache_root() / f"apicurio-registry-{registry_version(build)}"
    app, stamp = home / "app", home / ".complete"

    def complete() -> bool:
        try:
            return stamp.read_text().strip() == digest and any(app.glob(RUNNER_GLOB))
        except OSError:
            return False

    if complete():
        return app
    with _file_lock(home / ".lock"):
        if complete():
            return app
        mvn = find_maven()
        work = home / f"build-{os.getpid()}"
        shutil.rmtree(work, ignore_errors=True)
        # Build a copy: the installed files may sit in a read-only site-packages.
        shutil.copytree(build, work, ignore=shutil.ignore_patterns("target"))
        cmd = [mvn, "-B", "-q", "-Dstyle.color=never", "-f", str(work / "pom.xml"),
               "package", "-DskipTests"]
        log.info("building the schema registry with Maven (first run only) into %s", app)
        started = time.monotonic()
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, check=False)
        except subprocess.TimeoutExpired as exc:
            shutil.rmtree(work, ignore_errors=True)
            raise RegistrySetupError("Maven took over 30 min to build the schema registry; "
                                     "check the network access to Maven Central") from exc
        target = work / "app" / "target"
        if proc.returncode != 0 or not any(target.glob(RUNNER_GLOB)):
            shutil.rmtree(work, ignore_errors=True)
            raise RegistrySetupError(
                f"Maven could not build the schema registry (exit {proc.returncode}): "
                f"{_tail(proc.stdout + proc.stderr, 15)}\nCommand: {' '.join(cmd)}"
            )
        shutil.rmtree(app, ignore_errors=True)
        app.mkdir(parents=True)
        for runner in target.glob(RUNNER_GLOB):
            runner.rename(app / runner.name)
        (target / "lib").rename(app / "lib")  # the runner's manifest names lib/*.jar
        shutil.rmtree(work, ignore_errors=True)
        stamp.write_text(digest + "\n")
        log.info("schema registry built in %.0fs", time.monotonic() - started)
    return app


def registry_properties(host: str, port: int, database: Path | str) -> list[str]:
    """The registry's settings as JVM system properties (schema_registry/Dockerfile uses the
    same ones; tests/test_docker_compose.py checks it)."""
    return [
        f"-Dquarkus.http.host={host}", f"-Dquarkus.http.port={port}",
        # H2 in a file: schema ids outlive a restart (records in Kafka name them).
        f"-Dquarkus.datasource.jdbc.url=jdbc:h2:file:{database}",
        "-Dquarkus.datasource.jdbc.min-size=1", "-Dquarkus.datasource.jdbc.initial-size=1",
        "-Dquarkus.datasource.jdbc.max-size=10",
    ]


def wait_for_registry(url: str, timeout: float, still_starting: object = None) -> None:
    """Return once ``GET <url>/subjects`` answers 200 (a real API call); error on timeout."""
    deadline = time.monotonic() + timeout
    delay, last = 0.1, "no attempt made"
    while True:
        if callable(still_starting):
            still_starting()
        try:
            with urllib.request.urlopen(f"{url}/subjects", timeout=5.0) as resp:
                json.load(resp)
                return
        except urllib.error.HTTPError as exc:
            if exc.code in (401, 403):  # it answers; the credentials are the client's business
                return
            last = f"HTTP {exc.code}: {exc.reason}"
        except (OSError, ValueError) as exc:
            last = f"{type(exc).__name__}: {exc}"
        if time.monotonic() > deadline:
            raise RegistrySetupError(
                f"the schema registry at {url} did not answer within {timeout:g}s ({last})")
        time.sleep(delay)
        delay = min(delay * 2, 1.0)


class LocalRegistry(LocalProcess):
    """Apicurio Registry on 127.0.0.1 whose state lives in ``state_dir`` (kept across restarts)."""

    what = "schema registry"
    noun = "schema registry"
    error = RegistrySetupError

    def __init__(self, state_dir: Path | None = None, port: int | None = None) -> None:
        super().__init__(state_dir if state_dir is not None else cache_root() / "registry-run",
                         port)

    @property
    def pid_file(self) -> Path:
        return self.state_dir / "registry.pid"

    @property
    def port_file(self) -> Path:
        return self.state_dir / "registry.port"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "registry.log"

    @property
    def data_dir(self) -> Path:
        return self.state_dir / "data"

    def url_for(self, port: int) -> str:
        return f"http://{HOST}:{port}{CCOMPAT_PATH}"

    def _saved_port(self) -> int | None:
        try:
            return int(self.port_file.read_text().strip())
        except (OSError, ValueError):
            return None

    # what LocalProcess asks
    def _markers(self) -> tuple[bytes, ...]:
        return (f"-Dttxt.registry.state={self.state_dir}".encode(),)

    def _saved_address(self) -> str | None:
        port = self._saved_port()
        return None if port is None else self.url_for(port)

    def _address_of_running(self, pid: int) -> str | None:
        port = self._saved_port()
        if port is not None and self.port is not None and self.port != port:
            raise RegistrySetupError(
                f"the local schema registry already runs on port {port}, not on the "
                f"requested {self.port}; stop it first with `ttxt registry stop`")
        return None if port is None else self.url_for(port)

    def _wait_ready(self, address: str, timeout: float,
                    still_starting: StillStarting | None = None) -> None:
        wait_for_registry(address, timeout, still_starting)

    def _choose_port(self) -> int:
        if self.port is not None:
            if not _port_is_free(self.port):
                raise RegistrySetupError(
                    f"cannot start the schema registry: port {self.port} on {HOST} is in use; "
                    "omit --port to pick a free one")
            return self.port
        old = self._saved_port()  # the same address as last time when free
        return old if old is not None and _port_is_free(old) else _free_port(set())

    def _launch(self, timeout: float) -> str:
        java = find_java()
        app = registry_app()  # a first build takes minutes: not part of the start's timeout
        started = time.monotonic()
        runner = next(iter(sorted(app.glob(RUNNER_GLOB))))
        port = self._choose_port()
        self.data_dir.mkdir(exist_ok=True)
        cmd = [java, *JVM_OPTS, f"-Dttxt.registry.state={self.state_dir}",
               *registry_properties(HOST, port, self.data_dir / "registry"), "-jar", str(runner)]
        proc = self._spawn(cmd, self.log_file, append=True)
        self.port_file.write_text(f"{port}\n")
        url = self.url_for(port)
        self._await_ready(proc, url, timeout, started)
        log.info("schema registry (Apicurio %s) ready at %s in %.1fs (log: %s)",
                 registry_version(), url, time.monotonic() - started, self.log_file)
        return url

    def _log_tails(self) -> str:
        return _tail_file(self.log_file, 20, since=self._log_offset) or "(nothing)"


def ensure_registry(state_dir: Path | None = None) -> str:
    """A registry URL to use: ``TTXT_SCHEMA_REGISTRY_URL`` if set (once it answers), else the
    local registry, started if it is not running yet."""
    env = url_from_env()
    if env is not None:
        try:
            wait_for_registry(env, timeout=60.0)
        except RegistrySetupError as exc:
            raise RegistrySetupError(f"{ENV_URL} is set: {exc}") from None
        return env
    return LocalRegistry(state_dir).start()


__all__ = ["CCOMPAT_PATH", "ENV_URL", "JVM_OPTS", "LocalRegistry", "RegistrySetupError",
           "ensure_registry", "registry_app", "registry_properties", "registry_version",
           "url_from_env", "wait_for_registry"]
