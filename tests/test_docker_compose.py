"""docker-compose.yml, checked offline (no Docker engine here): the Kafka service's settings are
complete and consistent, and Kafka's own config validation accepts them."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from ttxt_kafka.local_kafka import KafkaSetupError, find_java, kafka_libs, kafka_version

ROOT = Path(__file__).resolve().parent.parent
PLATFORM_SERVICES = ("connector-binance", "connector-bybit", "recorder", "strategy")
REQUIRED = (
    "KAFKA_NODE_ID",
    "KAFKA_PROCESS_ROLES",
    "KAFKA_LISTENERS",
    "KAFKA_ADVERTISED_LISTENERS",
    "KAFKA_CONTROLLER_LISTENER_NAMES",
    "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP",
    "KAFKA_CONTROLLER_QUORUM_VOTERS",
    "KAFKA_INTER_BROKER_LISTENER_NAME",
    "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
    "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
    "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR",
    "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR",
    "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR",
    "KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS",
)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(data, dict)
    return data


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # the "KEY=value" list form
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def _listeners(value: str) -> dict[str, tuple[str, int]]:
    """'NAME://host:port,...' -> {NAME: (host, port)}"""
    out: dict[str, tuple[str, int]] = {}
    for item in value.split(","):
        match = re.fullmatch(r"\s*([A-Z_]+)://([^:]*):(\d+)\s*", item)
        assert match, f"malformed listener {item!r}"
        out[match.group(1)] = (match.group(2), int(match.group(3)))
    return out


@pytest.fixture(scope="module")
def kafka_env(compose: dict[str, Any]) -> dict[str, str]:
    return _env(compose["services"]["kafka"])


def test_image_is_apache_kafka_4_same_as_local(compose: dict[str, Any]) -> None:
    image = compose["services"]["kafka"]["image"]
    name, _, tag = image.partition(":")
    assert name == "apache/kafka"
    assert re.fullmatch(r"4\.\d+\.\d+", tag), image
    assert tag == kafka_version()  # the Docker broker and the Maven one are the same release


def test_every_required_property_is_set(kafka_env: dict[str, str]) -> None:
    missing = [key for key in REQUIRED if not kafka_env.get(key)]
    assert not missing, f"missing in the kafka service: {missing}"
    assert set(kafka_env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}


def test_listeners_are_consistent(kafka_env: dict[str, str]) -> None:
    listeners = _listeners(kafka_env["KAFKA_LISTENERS"])
    advertised = _listeners(kafka_env["KAFKA_ADVERTISED_LISTENERS"])
    protocols = dict(
        item.split(":") for item in kafka_env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")
    )
    controller = kafka_env["KAFKA_CONTROLLER_LISTENER_NAMES"]
    inter_broker = kafka_env["KAFKA_INTER_BROKER_LISTENER_NAME"]

    assert controller in listeners and controller in protocols
    assert set(listeners) <= set(protocols), "every listener needs a security protocol"
    assert set(advertised) <= set(listeners), "advertised listeners must exist"
    assert controller not in advertised, "the controller listener is never advertised"
    assert inter_broker in listeners and inter_broker != controller

    # One client listener for the host (the published port), one for the compose network.
    by_address = {(host, port): name for name, (host, port) in advertised.items()}
    assert ("localhost", 9092) in by_address
    assert ("kafka", 19092) in by_address
    assert listeners[by_address[("localhost", 9092)]][1] == 9092
    assert listeners[by_address[("kafka", 19092)]][1] == 19092


def test_quorum_voters_name_this_node(compose: dict[str, Any], kafka_env: dict[str, str]) -> None:
    node_id = kafka_env["KAFKA_NODE_ID"]
    voters = [v.strip() for v in kafka_env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(",")]
    assert len(voters) == 1
    voter_id, _, endpoint = voters[0].partition("@")
    assert voter_id == node_id
    host, _, port = endpoint.rpartition(":")
    controller = kafka_env["KAFKA_CONTROLLER_LISTENER_NAMES"]
    assert int(port) == _listeners(kafka_env["KAFKA_LISTENERS"])[controller][1]
    assert host in ("localhost", compose["services"]["kafka"].get("hostname"), "kafka")


def test_single_node_replication(kafka_env: dict[str, str]) -> None:
    for key, value in kafka_env.items():
        if key.endswith(("_REPLICATION_FACTOR", "_MIN_ISR", "MIN_INSYNC_REPLICAS")):
            assert value == "1", f"{key}={value} cannot be met by a single broker"
    assert kafka_env["KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS"] == "0"


def test_port_published_and_data_on_a_volume(compose: dict[str, Any]) -> None:
    kafka = compose["services"]["kafka"]
    published = [str(p) for p in kafka["ports"]]
    assert any(p.endswith("9092:9092") for p in published), published
    volumes = [str(v) for v in kafka["volumes"]]
    log_dirs = _env(kafka)["KAFKA_LOG_DIRS"]
    assert any(v.endswith(f":{log_dirs}") and v.split(":")[0] in compose["volumes"]
               for v in volumes), volumes
    assert "test" in kafka["healthcheck"]


def test_platform_services_use_the_internal_listener(compose: dict[str, Any]) -> None:
    internal = "kafka:19092"
    for name in PLATFORM_SERVICES:
        service = compose["services"][name]
        assert "platform" in service.get("profiles", []), name  # `up kafka` starts only Kafka
        assert service.get("build") == ".", name
        assert _env(service)["KAFKA_BOOTSTRAP_SERVERS"] == internal, name
        assert service["depends_on"]["kafka"]["condition"] == "service_healthy", name


def test_kafka_accepts_the_config(kafka_env: dict[str, str], tmp_path: Path) -> None:
    """The image turns KAFKA_FOO_BAR into foo.bar; Kafka's own KafkaConfig validation (run by
    `StorageTool format`) then checks listeners, roles, voters and the rest for real."""
    try:
        java, libs = find_java(), kafka_libs()
    except KafkaSetupError as exc:
        pytest.skip(f"needs the local Kafka jars: {exc}")
    props = {
        key.removeprefix("KAFKA_").lower().replace("_", "."): value
        for key, value in kafka_env.items()
        if key.startswith("KAFKA_")
    }
    props["log.dirs"] = str(tmp_path / "data")  # the only path that differs from the container
    config = tmp_path / "server.properties"
    config.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
    result = subprocess.run(
        [java, "-cp", str(libs / "*"), "kafka.tools.StorageTool", "format",
         "-t", kafka_env["CLUSTER_ID"], "-c", str(config)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "data" / "meta.properties").exists()


# --------------------------------------------------------------------------- platform services

_INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}")


def _compose_default(value: str) -> str:
    """What docker compose makes of `${VAR:-default}` with VAR unset."""
    return _INTERPOLATION.sub(lambda m: m.group(2) or "", value)


def _mounts(service: dict[str, Any]) -> dict[str, str]:
    """container path -> host path (defaults interpolated), read-only marked with ':ro'."""
    out = {}
    for item in service.get("volumes") or []:
        host, container, *mode = _compose_default(str(item)).split(":")
        out[container] = host + (":ro" if "ro" in mode else "")
    return out


def _service_arg(command: list[str]) -> str:
    return _compose_default(command[command.index("--service") + 1])


@pytest.fixture(scope="module")
def pipeline_of(compose: dict[str, Any]) -> dict[str, Any]:
    """service -> the pipeline file its container mounts (loaded as it would be inside)."""
    from ttxt_kafka.pipeline.config import load_pipeline

    out = {}
    for name in PLATFORM_SERVICES:
        host = _mounts(compose["services"][name])["/etc/ttxt/pipeline.yaml"]
        assert host.endswith(":ro"), f"{name}: mount the pipeline read-only"
        path = ROOT / host.removesuffix(":ro")
        assert path.is_file(), f"{name} mounts {path}, which does not exist"
        env = {k: _compose_default(v) for k, v in _env(compose["services"][name]).items()}
        out[name] = load_pipeline(path, env=env)
    return out


def test_platform_services_run_one_service_of_the_mounted_pipeline(
        compose: dict[str, Any], pipeline_of: dict[str, Any]) -> None:
    from ttxt_kafka.cli import build_parser
    from ttxt_kafka.cli.run_cmd import run as run_cmd

    kinds = {}
    for name in PLATFORM_SERVICES:
        service = compose["services"][name]
        command = [str(c) for c in service["command"]]
        args = build_parser().parse_args([_compose_default(c) for c in command])
        assert args.func is run_cmd, f"{name}: `ttxt {command[0]}` is not `ttxt run`"
        assert str(args.pipeline) == "/etc/ttxt/pipeline.yaml"
        pipeline = pipeline_of[name]
        wanted = _service_arg(command)
        kinds[name] = dict(pipeline.service_names())
        only = pipeline.only([wanted])  # raises if the pipeline has no such service
        assert only.service_names()[0][1] == wanted
        # Metrics on every interface inside the container, published on the host's loopback.
        assert _env(service)["TTXT_METRICS_HOST"] == "0.0.0.0" and pipeline.metrics_host == \
            "0.0.0.0"
        port = pipeline.metrics_ports()[wanted]
        assert port, f"{name}: {wanted} has no metrics_port"
        assert f"127.0.0.1:{port}:{port}" in [str(p) for p in service.get("ports", [])], name
        # The health check asks that service's /health (through the same file).
        test = [_compose_default(str(t)) for t in service["healthcheck"]["test"]]
        assert test[:2] == ["CMD", "ttxt"] and "--probe" in test
        probe = build_parser().parse_args(test[2:])
        assert probe.func is run_cmd and probe.probe and probe.service == [wanted]
    by_kind = {name: {v: k for k, v in pipeline_of[name].service_names()}[
        _service_arg([str(c) for c in compose["services"][name]["command"]])]
        for name in PLATFORM_SERVICES}
    assert by_kind == {"connector-binance": "connector", "connector-bybit": "connector",
                       "recorder": "recorder", "strategy": "strategy"}


def test_platform_environment_and_dependencies(compose: dict[str, Any],
                                               pipeline_of: dict[str, Any]) -> None:
    services = compose["services"]
    for name in PLATFORM_SERVICES:
        env = _env(services[name])
        for key in ("KAFKA_SECURITY_PROTOCOL", "KAFKA_SASL_MECHANISM", "KAFKA_SASL_USERNAME",
                    "KAFKA_SASL_PASSWORD", "TTXT_TOPIC_PARTITIONS", "TTXT_TOPIC_REPLICATION"):
            assert key in env, f"{name}: {key} is not passed through"
            assert env[key].startswith("${"), f"{name}: {key} must come from the host's env"
        assert int(services[name].get("stop_grace_period", "10s").rstrip("s")) >= 20, name
    # The recorder writes where its volume is.
    recorder = services["recorder"]
    data = _env(recorder)["TTXT_DATA_DIR"]
    assert _mounts(recorder)[data].split(":")[0] in compose["volumes"]
    assert pipeline_of["recorder"].recorder.out == data
    # The strategy waits for its books' connector to be healthy, not merely started.
    assert services["strategy"]["depends_on"]["connector-binance"]["condition"] == \
        "service_healthy"
    for name in ("connector-binance", "connector-bybit"):
        env = _env(services[name])
        venue = name.removeprefix("connector-").upper()
        assert f"TTXT_{venue}_API_KEY" in env and f"TTXT_{venue}_API_SECRET" in env


def test_dockerfile_builds_the_wheel_from_what_pyproject_names() -> None:
    import tomllib

    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.1[1-9]", text, re.M)
    assert re.search(r"apt-get install .*gcc", text)  # the C readers are compiled, not skipped
    assert re.search(r'^ENTRYPOINT \["ttxt"\]', text, re.M)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wheel = project["tool"]["hatch"]["build"]["targets"]["wheel"]
    needed = set(wheel["packages"]) | set(wheel["force-include"]) | {"pyproject.toml",
                                                                      "README.md"}
    if "custom" in wheel.get("hooks", {}):  # the build hook compiling the C readers
        needed.add(wheel["hooks"]["custom"].get("path", "hatch_build.py"))
    # ttxt_kafka/<name> links to the top-level folders: the image needs what they point at
    needed |= {p.resolve().name for p in (ROOT / "ttxt_kafka").iterdir() if p.is_symlink()}
    assert {"connectors", "simulator"} <= needed
    copied = set()
    for line in re.findall(r"^COPY (.+)$", text, re.M):
        copied.update(line.split()[:-1])
    assert needed <= copied, f"not copied into the image: {sorted(needed - copied)}"
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert not needed & set(ignored)


# ---------------------------------------------------------------- the schema registry


def test_schema_registry_service_is_the_local_registry(compose: dict[str, Any]) -> None:
    """The `schema-registry` service builds schema_registry/ (the pom `ttxt registry start`
    builds) and runs it with the same settings, its H2 file on a volume, the port on loopback."""
    from ttxt_kafka.local_registry import JVM_OPTS, registry_properties

    service = compose["services"]["schema-registry"]
    assert service["build"] == "./schema_registry"
    assert service["ports"] == ["127.0.0.1:8081:8080"]
    mounts = [str(v) for v in service["volumes"]]
    assert mounts == ["registry-data:/data"] and "registry-data" in compose["volumes"]
    assert "/apis/ccompat/v7/subjects" in " ".join(service["healthcheck"]["test"])

    text = (ROOT / "schema_registry" / "Dockerfile").read_text()
    assert re.search(r"^FROM maven:3[.\d]*-eclipse-temurin-17 AS build", text, re.M)
    assert "mvn -B -q -Dstyle.color=never package -DskipTests" in text
    entry = json.loads(re.search(r"^ENTRYPOINT (\[.*?\])$", text.replace("\\\n", ""),
                                 re.M | re.S).group(1))  # type: ignore[union-attr]
    assert entry[0] == "java" and entry[-2:] == ["-jar", "/app/registry.jar"]
    assert entry[1:-2] == [*JVM_OPTS, *registry_properties("0.0.0.0", 8080, "/data/registry")]
    assert "ttxt-schema-registry-1-runner.jar" in text  # what app/pom.xml's build produces
    app_pom = (ROOT / "schema_registry" / "app" / "pom.xml").read_text()
    assert "<artifactId>ttxt-schema-registry</artifactId>" in app_pom


def test_platform_services_know_the_registry(compose: dict[str, Any]) -> None:
    for name in PLATFORM_SERVICES:
        service = compose["services"][name]
        env = _env(service)
        assert env["TTXT_SCHEMA_REGISTRY_URL"] == "http://schema-registry:8080/apis/ccompat/v7"
        assert env["TTXT_SERIALIZATION"] == "${TTXT_SERIALIZATION:-single-object}"
        assert service["depends_on"]["schema-registry"]["condition"] == "service_healthy", name
