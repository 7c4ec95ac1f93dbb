"""The pipeline file: which services `ttxt run` starts, validated by pydantic.

    name: offline                       # optional, shown in logs and `ttxt top`
    topic_prefix: ttxt
    kafka:                              # the connector config's `kafka:` section, plus
      bootstrap_servers: null           #   topics: {partitions, replication_factor}, security,
                                        #   serialization: {format, schema_registry_url, ...}
    metrics_host: 127.0.0.1             # where every /metrics + /health server binds
    simulators:                         # offline pipelines: the exchange side, in process
      - {venue: binance, symbols: [BTCUSDT, ETHUSDT], rate: 20}
    connectors:                         # each entry: one connector, the connector config's
      - venue: binance                  #   schema (`ttxt connect`), plus name, metrics_port
        symbols: [BTC/USDT]             #   and simulator (its endpoints come from it) ...
        streams: {book: true, trades: true}
        simulator: sim-binance
        metrics_port: 9101
      - config: examples/bybit.yaml     # ... or a `ttxt connect` file: its connectors, one service
    recorder: {out: data/, metrics_port: 9103}
    strategies:
      - class: strategies.examples.market_maker:MarketMaker
        params: {spread_bps: 8, size: "0.001"}
        group: mm
        metrics_port: 9104

Every string may use `${VAR}` or `${VAR:-default}` (environment variables, expanded before
validation: how docker-compose configures a mounted pipeline). Unknown keys, wrong types and
dangling references are refused with the key's path, in the connector config's words.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from ttxt_kafka.archive.ocf import CODECS, DEFAULT_CODEC
from ttxt_kafka.connectors.config import Config as ConnectorsFile
from ttxt_kafka.connectors.config import (
    ConfigError,
    ConnectorConfig,
    KafkaSettings,
    Venue,
    load_config,
)
from ttxt_kafka.recorder.rotation import DEFAULT_ROTATE, RotatePolicy
from ttxt_kafka.recorder.service import DEFAULT_GROUP as RECORDER_GROUP
from ttxt_kafka.topics import DEFAULT_PREFIX, TopicNameError, topic


class PipelineError(ConfigError):
    """A pipeline file that cannot be used; the message names every bad key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _port() -> Any:
    """A metrics port: None = no server, 0 = any free port (logged at start), else that port."""
    return Field(default=None, ge=0, le=65535)


class TopicSettings(_Strict):
    """How topics the services create are made (an existing topic is left as it is); unset:
    TTXT_TOPIC_PARTITIONS / TTXT_TOPIC_REPLICATION, else 3 partitions, 1 replica."""

    partitions: int | None = Field(default=None, ge=1,
                                   description="book/trades/executions must match")
    replication_factor: int | None = Field(default=None, ge=1)


class SecuritySettings(_Strict):
    """Passed to every Kafka client of the pipeline (aiokafka's names)."""

    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER",
                            "GSSAPI"] | None = None
    sasl_plain_username: str | None = None
    sasl_plain_password: str | None = Field(default=None, repr=False)
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None


class PipelineKafka(KafkaSettings):
    """The connector config's `kafka:` plus what every service of the pipeline shares."""

    topics: TopicSettings = TopicSettings()
    security: SecuritySettings = SecuritySettings()


class SimulatorSpec(_Strict):
    """A synthetic exchange (the simulator's seeded market), served in the pipeline."""

    name: str | None = None  # default sim-<venue>
    venue: Venue
    symbols: list[str] = Field(default_factory=lambda: ["BTCUSDT", "ETHUSDT"], min_length=1)
    rate: float | None = Field(default=20.0, gt=0, description="steps/s per symbol; null = max")
    seed: int = 0
    levels: int = Field(default=50, ge=1)
    host: str = "127.0.0.1"
    port: int = Field(default=0, ge=0, le=65535)

    @property
    def service_name(self) -> str:
        return self.name or f"sim-{self.venue}"


class ConnectorService(ConnectorConfig):
    """One connector: exactly the connector config's entry, plus where it runs in the pipeline."""

    name: str | None = None  # default: the venue
    metrics_port: int | None = _port()
    simulator: str | None = Field(default=None, description="take endpoints from this simulator")

    @property
    def service_name(self) -> str:
        return self.name or self.venue

    def connector_config(self, ws: str | None = None, rest: str | None = None) -> ConnectorConfig:
        """The plain connector config (endpoints replaced when given)."""
        data = self.model_dump(exclude={"name", "metrics_port", "simulator"})
        if ws is not None:
            data["endpoints"] = {"ws": ws, "rest": rest}
        return ConnectorConfig.model_validate(data)


class ConnectorFile(_Strict):
    """A `ttxt connect` config file: all its connectors run as one service."""

    config: str
    name: str | None = None  # default: the file's stem
    metrics_port: int | None = _port()

    @property
    def service_name(self) -> str:
        return self.name or Path(self.config).stem


class RecorderService(_Strict):
    name: str = "recorder"
    out: str
    topics: str | None = Field(default=None, description="regex; default: market-data topics")
    group: str = RECORDER_GROUP
    instance_id: str | None = None
    codec: str = DEFAULT_CODEC
    rotate: str = DEFAULT_ROTATE
    block_size: int = Field(default=150, ge=1)
    block_bytes: int = Field(default=1 << 20, ge=1)
    max_delay: float = Field(default=1.0, gt=0)
    drain_timeout: float = Field(default=10.0, ge=0,
                                 description="at stop: read up to the topics' ends first")
    metrics_port: int | None = _port()

    @property
    def service_name(self) -> str:
        return self.name

    @field_validator("codec")
    @classmethod
    def _codec(cls, value: str) -> str:
        if value not in CODECS:
            raise ValueError(f"unknown codec {value!r}: use one of {', '.join(CODECS)}")
        return value

    @field_validator("rotate")
    @classmethod
    def _rotate(cls, value: str) -> str:
        RotatePolicy.parse(value)
        return value

    @field_validator("topics")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from None
        return value


class StrategyService(_Strict):
    strategy: str = Field(alias="class", description="module:Class or path/file.py:Class")
    name: str | None = None  # default: the group, else the class's module name
    params: dict[str, Any] = Field(default_factory=dict)
    venues: list[str] | None = None  # override the class's subscription
    symbols: list[str] | None = None
    channels: list[str] | None = None
    group: str | None = None
    from_beginning: bool = False
    snapshot_interval: float = Field(default=60.0, gt=0)
    run_id: str | None = None
    metrics_port: int | None = _port()

    @property
    def service_name(self) -> str:
        if self.name:
            return self.name
        if self.group:
            return self.group
        module = self.strategy.rpartition(":")[0]
        return Path(module).stem if module.endswith(".py") else module.rpartition(".")[2]

    @field_validator("strategy")
    @classmethod
    def _spec(cls, value: str) -> str:
        module, sep, name = value.rpartition(":")
        if not sep or not module or not name.isidentifier():
            raise ValueError(f"{value!r}: give MODULE:Class, e.g. "
                             "ttxt_kafka.strategies.examples.market_maker:MarketMaker")
        return value


def _entry_kind(value: Any) -> str:
    # A file reference has `config`; anything else is an inline connector (so its errors name
    # the connector's keys, not a union's alternatives).
    has_config = "config" in value if isinstance(value, dict) else hasattr(value, "config")
    return _FILE_TAG if has_config else _INLINE_TAG


_FILE_TAG, _INLINE_TAG = "<file>", "<inline>"  # in error paths only; dropped when printed
ConnectorEntry = Annotated[
    Annotated[ConnectorService, Tag(_INLINE_TAG)] | Annotated[ConnectorFile, Tag(_FILE_TAG)],
    Discriminator(_entry_kind),
]

ServiceKind = Literal["simulator", "connector", "recorder", "strategy"]


class Pipeline(_Strict):
    name: str = "pipeline"
    topic_prefix: str = DEFAULT_PREFIX
    kafka: PipelineKafka = PipelineKafka()
    metrics_host: str = "127.0.0.1"
    simulators: list[SimulatorSpec] = Field(default_factory=list)
    connectors: list[ConnectorEntry] = Field(default_factory=list)
    recorder: RecorderService | None = None
    strategies: list[StrategyService] = Field(default_factory=list)
    # Filled by the loader for `config:` references: service name -> the file's connectors.
    _files: dict[str, ConnectorsFile] = PrivateAttr(default_factory=dict)

    @field_validator("topic_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        try:
            topic("venue", "book", value)
        except TopicNameError as exc:
            raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Pipeline:
        if not (self.simulators or self.connectors or self.recorder or self.strategies):
            raise ValueError("nothing to run: declare simulators, connectors, a recorder "
                             "or strategies")
        names = [name for _, name in self.service_names()]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"service name(s) used twice: {dup} (set `name:` to tell them apart)")
        sims = {s.service_name: s for s in self.simulators}
        for i, c in enumerate(self.connectors):
            if isinstance(c, ConnectorService) and c.simulator is not None:
                sim = sims.get(c.simulator)
                if sim is None:
                    raise ValueError(f"connectors[{i}].simulator: no simulator named "
                                     f"{c.simulator!r} (have: {', '.join(sims) or 'none'})")
                if sim.venue != c.venue:
                    raise ValueError(f"connectors[{i}].simulator: {c.simulator} plays "
                                     f"{sim.venue}, not {c.venue}")
        ports = [(n, p) for n, p in self.metrics_ports().items() if p]
        used = [p for _, p in ports]
        clash = sorted({f"{p} ({', '.join(n for n, q in ports if q == p)})"
                        for p in used if used.count(p) > 1})
        if clash:
            raise ValueError(f"metrics_port used by several services: {clash}")
        return self

    def service_names(self) -> list[tuple[ServiceKind, str]]:
        """Every service, in start order."""
        out: list[tuple[ServiceKind, str]] = [("simulator", s.service_name)
                                              for s in self.simulators]
        out += [("connector", c.service_name) for c in self.connectors]
        if self.recorder is not None:
            out.append(("recorder", self.recorder.service_name))
        out += [("strategy", s.service_name) for s in self.strategies]
        return out

    def metrics_ports(self) -> dict[str, int | None]:
        ports: dict[str, int | None] = {c.service_name: c.metrics_port for c in self.connectors}
        if self.recorder is not None:
            ports[self.recorder.name] = self.recorder.metrics_port
        ports.update({s.service_name: s.metrics_port for s in self.strategies})
        return ports

    def connector_file(self, name: str) -> ConnectorsFile:
        """The loaded `ttxt connect` file behind a `config:` entry."""
        return self._files[name]

    def only(self, names: list[str]) -> Pipeline:
        """The same pipeline with only the named services (`ttxt run --service`)."""
        known = [n for _, n in self.service_names()]
        unknown = [n for n in names if n not in known]
        if unknown:
            raise PipelineError(f"no service named {', '.join(unknown)} in this pipeline "
                                f"(it has: {', '.join(known)})")
        keep = set(names)
        recorder = self.recorder if self.recorder and self.recorder.name in keep else None
        return self.model_copy(update={
            "simulators": [s for s in self.simulators if s.service_name in keep],
            "connectors": [c for c in self.connectors if c.service_name in keep],
            "recorder": recorder,
            "strategies": [s for s in self.strategies if s.service_name in keep],
        })


# --------------------------------------------------------------------------- loading

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand_env(data: Any, env: dict[str, str] | None = None, where: str = "") -> Any:
    """`${VAR}` / `${VAR:-default}` in every string; an unset VAR without default is an
    error naming the key."""
    env = os.environ if env is None else env  # type: ignore[assignment]
    assert env is not None
    if isinstance(data, str):
        def sub(m: re.Match[str]) -> str:
            value = env.get(m[1])
            if value is None or (value == "" and m[2] is not None):
                if m[2] is None:
                    raise PipelineError(f"{where or '(top level)'}: environment variable "
                                        f"{m[1]} is not set (write ${{{m[1]}:-default}} for a "
                                        "default)")
                return m[2]
            return value

        return _VAR.sub(sub, data)
    if isinstance(data, dict):
        return {k: expand_env(v, env, f"{where}.{k}" if where else str(k))
                for k, v in data.items()}
    if isinstance(data, list):
        return [expand_env(v, env, f"{where}[{i}]") for i, v in enumerate(data)]
    return data


class ExactFloat(float):
    """A YAML float that remembers its text, so a strategy's Decimal parameter stays exact."""

    text: str


class _Loader(yaml.SafeLoader):
    pass


def _float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> float:
    value = ExactFloat(loader.construct_yaml_float(node))
    value.text = str(node.value)
    return value


_Loader.add_constructor("tag:yaml.org,2002:float", _float)


def parse_pipeline(data: Any, source: str = "pipeline", base_dir: Path | None = None,
                   env: dict[str, str] | None = None) -> Pipeline:
    """Validate a pipeline mapping; `config:` file references are resolved from `base_dir`."""
    if not isinstance(data, dict):
        raise PipelineError(f"{source}: expected a mapping (connectors, recorder, strategies...)")
    try:
        data = expand_env(data, env)
    except PipelineError as exc:
        raise PipelineError(f"{source}: {exc}") from None
    try:
        pipeline = Pipeline.model_validate(data)
    except ValidationError as exc:
        raise PipelineError(_errors(exc, source)) from None
    files: dict[str, ConnectorsFile] = {}
    for i, c in enumerate(pipeline.connectors):
        if isinstance(c, ConnectorFile):
            path = Path(c.config)
            if not path.is_absolute() and base_dir is not None:
                path = base_dir / path
            try:
                ref = load_config(path)
            except ConfigError as exc:
                raise PipelineError(f"{source}: connectors[{i}].config: {exc}") from None
            if ref.topic_prefix != pipeline.topic_prefix:
                raise PipelineError(
                    f"{source}: connectors[{i}].config: {path} writes topic prefix "
                    f"{ref.topic_prefix!r}, the pipeline {pipeline.topic_prefix!r}")
            ser = ref.kafka.serialization
            if ser.model_fields_set and ser != pipeline.kafka.serialization:
                # One setting per process: the pipeline's.
                raise PipelineError(
                    f"{source}: connectors[{i}].config: {path} sets kafka.serialization, "
                    "which differs from the pipeline's: set it in the pipeline's "
                    "kafka.serialization only")
            files[c.service_name] = ref
    pipeline._files = files
    return pipeline


def _errors(exc: ValidationError, source: str) -> str:
    """One line per error, naming the key by its path, as the connector config does."""
    lines = []
    for err in exc.errors(include_url=False):
        where = ""
        for part in err["loc"]:
            if isinstance(part, int):
                where += f"[{part}]"
            elif part not in (_FILE_TAG, _INLINE_TAG) and not str(part).startswith("function-"):
                where += f".{part}" if where else str(part)
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; see Pipelines in the README)"
        elif err["type"] == "missing":
            msg = "required key is missing"
        # A whole-pipeline check names its keys in the message itself.
        lines.append(f"  {where}: {msg}" if where else f"  {msg}")
    return f"{source}: invalid pipeline\n" + "\n".join(lines)


def load_pipeline(path: str | Path, env: dict[str, str] | None = None) -> Pipeline:
    """Read and validate a pipeline file; `PipelineError` names each bad key."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise PipelineError(f"{p}: cannot read the pipeline: {exc.strerror or exc}") from None
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise PipelineError(f"{p}: not valid YAML: {exc}") from None
    return parse_pipeline(data, str(p), p.resolve().parent, env)


def strategy_params(params: dict[str, Any]) -> dict[str, Any]:
    """YAML scalars as the strings the strategy converts to its parameters' types (exactly)."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, ExactFloat):
            out[key] = value.text
        elif isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, int | float):
            out[key] = str(value)
        else:
            out[key] = value
    return out
