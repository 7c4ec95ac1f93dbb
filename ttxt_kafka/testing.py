"""A real Kafka broker for test suites (ours, and users' tests of their strategies).

:func:`kafka_bootstrap_for_tests` returns, in this order of preference:

1. ``KAFKA_BOOTSTRAP_SERVERS`` when set (any cluster, e.g. ``docker compose up -d kafka``);
2. a local broker (:class:`~ttxt_kafka.local_kafka.LocalKafka`) started once per process, with
   fresh state in ``<cache>/ttxt-kafka/tests/run-<pid>`` so that tests never see topics left by
   an earlier run, nor touch the user's own ``ttxt kafka start`` broker.

:func:`stop` stops that broker and removes its state; it is also registered with ``atexit``.
Brokers left behind by a test process that was killed are stopped by the next session.

There is no testcontainers path on purpose: where Docker exists, ``docker compose up -d kafka``
plus ``KAFKA_BOOTSTRAP_SERVERS`` gives the same broker with one code path less to keep working.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import shutil
import threading
from pathlib import Path

from ttxt_kafka.local_kafka import (
    KafkaSetupError,
    LocalKafka,
    bootstrap_from_env,
    cache_root,
    wait_for_broker,
)
from ttxt_kafka.local_process import LocalProcess, LocalSetupError
from ttxt_kafka.local_registry import LocalRegistry, url_from_env, wait_for_registry

log = logging.getLogger(__name__)

_lock = threading.Lock()
_local: LocalKafka | None = None
_bootstrap: str | None = None
_registry: LocalRegistry | None = None
_registry_url: str | None = None


def tests_root() -> Path:
    return cache_root() / "tests"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _reap_orphans() -> None:
    """Stop brokers whose test process died without its teardown (SIGKILL, a crash)."""
    root = tests_root()
    if not root.is_dir():
        return
    for state in [*root.glob("run-*"), *root.glob("registry-*")]:
        try:
            owner = int(state.name.split("-", 1)[1])
        except ValueError:
            continue
        if owner == os.getpid() or _pid_alive(owner):
            continue
        log.info("stopping a %s left by test process %d (%s)", state.name.split("-")[0], owner,
                 state)
        with contextlib.suppress(KafkaSetupError, OSError):
            if state.name.startswith("run-"):
                LocalKafka(state_dir=state).stop(timeout=10.0)
            else:
                LocalRegistry(state_dir=state).stop(timeout=10.0)
        shutil.rmtree(state, ignore_errors=True)


def _start_fresh(service: LocalProcess, timeout: float) -> str:
    """Start `service` on fresh state (a test never sees what an earlier run left); a start
    that fails leaves no process and no state behind."""
    shutil.rmtree(service.state_dir, ignore_errors=True)
    try:
        return service.start(timeout=timeout)
    except (LocalSetupError, OSError):
        with contextlib.suppress(LocalSetupError, OSError):
            service.stop(timeout=10.0)
        shutil.rmtree(service.state_dir, ignore_errors=True)
        raise


def kafka_bootstrap_for_tests(timeout: float = 180.0) -> str:
    """A bootstrap address of a real broker for tests (see the module doc for which one)."""
    global _local, _bootstrap
    env = bootstrap_from_env()
    if env is not None:
        wait_for_broker(env, timeout=timeout)
        return env
    with _lock:
        if _bootstrap is None:
            _reap_orphans()
            kafka = LocalKafka(state_dir=tests_root() / f"run-{os.getpid()}")
            atexit.register(stop)  # safety net if the session ends without teardown
            _bootstrap = _start_fresh(kafka, timeout)
            _local = kafka
        return _bootstrap


def schema_registry_for_tests(timeout: float = 300.0) -> str:
    """The ccompat URL of a real schema registry for tests: ``TTXT_SCHEMA_REGISTRY_URL`` when
    set, else a local Apicurio Registry started once per process with fresh state in
    ``<cache>/ttxt-kafka/tests/registry-<pid>`` (built with Maven on the machine's first run)."""
    global _registry, _registry_url
    env = url_from_env()
    if env is not None:
        wait_for_registry(env, timeout=timeout)
        return env
    with _lock:
        if _registry_url is None:
            _reap_orphans()
            registry = LocalRegistry(state_dir=tests_root() / f"registry-{os.getpid()}")
            atexit.register(stop_registry)
            _registry_url = _start_fresh(registry, timeout)
            _registry = registry
        return _registry_url


def local_test_registry() -> LocalRegistry | None:
    """The LocalRegistry this module started, or None (not started, or TTXT_SCHEMA_REGISTRY_URL)."""
    return _registry


def stop_registry() -> None:
    """Stop the registry :func:`schema_registry_for_tests` started (if any); drop its state."""
    global _registry, _registry_url
    with _lock:
        registry, _registry, _registry_url = _registry, None, None
    if registry is not None:
        try:
            registry.stop()
        finally:
            shutil.rmtree(registry.state_dir, ignore_errors=True)


def local_test_broker() -> LocalKafka | None:
    """The LocalKafka this module started, or None (not started yet, or an env cluster)."""
    return _local


def stop() -> None:
    """Stop the broker :func:`kafka_bootstrap_for_tests` started (if any) and drop its state."""
    global _local, _bootstrap
    with _lock:
        kafka, _local, _bootstrap = _local, None, None
        if kafka is None:
            state = tests_root() / f"run-{os.getpid()}"
            if state.exists():  # start() failed half-way
                with contextlib.suppress(KafkaSetupError, OSError):
                    LocalKafka(state_dir=state).stop(timeout=10.0)
                shutil.rmtree(state, ignore_errors=True)
            return
        try:
            kafka.stop()
        finally:
            shutil.rmtree(kafka.state_dir, ignore_errors=True)


__all__ = ["kafka_bootstrap_for_tests", "local_test_broker", "local_test_registry",
           "schema_registry_for_tests", "stop",
           "stop_registry", "tests_root"]
