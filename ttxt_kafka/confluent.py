"""The Confluent wire format beside single-object encoding: a schema-registry client and the
framing that maps a registry's schema ids to the codec's writer schemas.

A Confluent record is `00`, the writer schema's id (4 bytes, big-endian), then the Avro body —
the same body single-object encoding puts after its 10-byte prefix. So this layer only swaps
prefixes: a producer encodes as usual and puts the id its topic's subject has for the event's
schema in front of the body; a consumer replaces the id by the fingerprint of the schema the
registry holds under it (fetched once, cached) and decodes the result as single-object — Avro
resolution against the reader schema included, when the writer's schema is another version.

The schema registered for an event type is the one the codec's registry parsed, fully expanded
(every named type it uses defined inside it, full names), so the registry, confluent-kafka or
Kafka Connect need nothing else to read it. Registry calls are plain HTTP (stdlib), made once
per (subject, type) and per id; an unreachable registry is retried at most every few seconds
(meanwhile records needing it fail at once with the same clear error).
"""

from __future__ import annotations

import base64
import json
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any, TypeVar

from .codec import HEADER_LEN, CodecError, NoSchemaRegistryError, UnknownSchemaError
from .fingerprint import schema_fingerprint
from .registry import MAGIC, EventType, Registry, RegistryError
from .serialization import Serialization

CONFLUENT_MAGIC = b"\x00"
CONFLUENT_HEADER_LEN = 5
_CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
RETRY_AFTER = 5.0  # seconds an unreachable registry (or unknown id) is not asked again
V = TypeVar("V")


class SchemaRegistryError(CodecError):
    """The registry refused a request (its message included) or could not be reached."""

    def __init__(self, message: str, status: int | None = None,
                 error_code: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code


class SchemaRegistryUnavailableError(SchemaRegistryError):
    """No answer from the registry (refused connection, timeout, TLS failure)."""


class UnknownSchemaIdError(UnknownSchemaError):
    """A Confluent record whose schema id the registry does not know (or not as a ttxt event)."""


# What a record fails with when its schema id could not be resolved: an id the registry does not
# know, a registry that refuses or cannot be reached, or no registry configured at all. Consumers
# count these as `schema_registry_errors` (besides `malformed`).
REGISTRY_ERRORS: tuple[type[CodecError], ...] = (
    SchemaRegistryError, UnknownSchemaIdError, NoSchemaRegistryError)


def expanded_schema(et: EventType) -> dict[str, Any]:
    """The event type's schema as the codec parsed it: named types inline, full names, without
    fastavro's bookkeeping keys."""

    def clean(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: clean(v) for k, v in node.items() if not k.startswith("__")}
        if isinstance(node, list):
            return [clean(v) for v in node]
        return node

    return clean(et.parsed)  # type: ignore[no-any-return]


class SchemaRegistryClient:
    """The Confluent Schema Registry REST API (what Apicurio serves at /apis/ccompat/v7)."""

    def __init__(self, url: str, *, username: str | None = None, password: str | None = None,
                 ca_file: str | None = None, cert_file: str | None = None,
                 key_file: str | None = None, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._headers = {"Content-Type": _CONTENT_TYPE, "Accept": _CONTENT_TYPE}
        if username:
            token = base64.b64encode(f"{username}:{password or ''}".encode()).decode()
            self._headers["Authorization"] = f"Basic {token}"
        self._ssl: ssl.SSLContext | None = None
        if ca_file or cert_file or self.url.startswith("https:"):
            self._ssl = ssl.create_default_context(cafile=ca_file)
            if cert_file:
                self._ssl.load_cert_chain(cert_file, key_file)

    @classmethod
    def from_settings(cls, s: Serialization) -> SchemaRegistryClient:
        if not s.registry_url:
            raise SchemaRegistryError("no schema registry URL is set (TTXT_SCHEMA_REGISTRY_URL)")
        return cls(s.registry_url, username=s.username, password=s.password,
                   ca_file=s.ca_file, cert_file=s.cert_file, key_file=s.key_file)

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers=self._headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout,
                                        context=self._ssl) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            text = exc.read().decode("utf-8", "replace")
            try:
                answer = json.loads(text)
                message, code = str(answer.get("message", text)), answer.get("error_code")
            except (ValueError, AttributeError):
                message, code = text.strip()[:500], None
            raise SchemaRegistryError(
                f"schema registry {self.url} refused {method} {path}: HTTP {exc.code}: {message}",
                status=exc.code, error_code=code) from None
        except (OSError, ValueError) as exc:  # URLError, timeouts, TLS, a malformed URL
            reason = getattr(exc, "reason", exc)
            raise SchemaRegistryUnavailableError(
                f"schema registry {self.url} unreachable ({type(exc).__name__}: {reason})"
            ) from None
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            raise SchemaRegistryError(f"schema registry {self.url} answered {method} {path} "
                                      f"with something that is not JSON: {raw[:200]!r}") from None

    @staticmethod
    def _subject(subject: str) -> str:
        return urllib.parse.quote(subject, safe="")

    def register(self, subject: str, schema: dict[str, Any]) -> int:
        """The id of `schema` under `subject`, registering it as a new version if needed (the
        subject's compatibility rule may refuse it: SchemaRegistryError with its message)."""
        answer = self._call("POST", f"/subjects/{self._subject(subject)}/versions",
                            {"schema": json.dumps(schema), "schemaType": "AVRO"})
        return int(answer["id"])

    def lookup(self, subject: str, schema: dict[str, Any]) -> int | None:
        """The id of `schema` if it is a version of `subject`, else None."""
        try:
            answer = self._call("POST", f"/subjects/{self._subject(subject)}",
                                {"schema": json.dumps(schema), "schemaType": "AVRO"})
        except SchemaRegistryError as exc:
            if exc.status == 404:
                return None
            raise
        return int(answer["id"])

    def schema(self, schema_id: int) -> dict[str, Any]:
        """The Avro schema registered under `schema_id`."""
        answer = self._call("GET", f"/schemas/ids/{int(schema_id)}")
        if answer.get("references"):
            raise SchemaRegistryError(f"schema id {schema_id} uses schema references, which "
                                      "ttxt does not resolve: register it fully expanded")
        if answer.get("schemaType", "AVRO") != "AVRO":
            raise SchemaRegistryError(f"schema id {schema_id} is a {answer['schemaType']} "
                                      "schema, not Avro")
        parsed: dict[str, Any] = json.loads(answer["schema"])
        return parsed

    def subjects(self) -> list[str]:
        return list(self._call("GET", "/subjects"))

    def versions(self, subject: str) -> list[int]:
        return list(self._call("GET", f"/subjects/{self._subject(subject)}/versions"))

    def set_compatibility(self, subject: str | None, level: str) -> None:
        """BACKWARD, FORWARD, FULL (+ _TRANSITIVE) or NONE, for one subject or (None) all."""
        path = "/config" if subject is None else f"/config/{self._subject(subject)}"
        self._call("PUT", path, {"compatibility": level})

    def compatibility(self, subject: str) -> str:
        answer = self._call("GET", f"/config/{self._subject(subject)}")
        return str(answer.get("compatibilityLevel") or answer.get("compatibility"))


class ConfluentFraming:
    """Schema ids for producing, writer schemas for consuming; both cached for the process."""

    def __init__(self, client: SchemaRegistryClient, *, subject_strategy: str = "topic",
                 auto_register: bool = True) -> None:
        self.client = client
        self.subject_strategy = subject_strategy
        self.auto_register = auto_register
        self._ids: dict[tuple[str, str], int] = {}  # (topic, type) -> schema id
        self._writers: dict[int, tuple[bytes, dict[str, Any]]] = {}  # id -> (fp, schema)
        self._failed: dict[Any, tuple[float, CodecError]] = {}  # key -> (until, error)
        self._lock = threading.Lock()  # lookups may run in worker threads (asyncio.to_thread)
        self.registry_errors = 0  # records that failed because of the registry

    @classmethod
    def from_settings(cls, s: Serialization) -> ConfluentFraming:
        return cls(SchemaRegistryClient.from_settings(s), subject_strategy=s.subject_strategy,
                   auto_register=s.auto_register)

    # ------------------------------------------------------------ producing

    def subject(self, topic: str, et: EventType) -> str:
        full_name = str(et.parsed["name"])
        if self.subject_strategy == "record":
            return full_name
        if self.subject_strategy == "topic-record":
            return f"{topic}-{full_name}"
        return f"{topic}-value"

    def has_id(self, topic: str, et: EventType) -> bool:
        return (topic, et.name) in self._ids

    def schema_id(self, topic: str, et: EventType) -> int:
        """The id of the event type's schema under the topic's subject (registered or looked
        up once); SchemaRegistryError if the registry refuses or cannot be reached."""
        found = self._ids.get((topic, et.name))
        if found is not None:
            return found
        return self._once(self._ids, (topic, et.name), lambda: self._register(topic, et))

    def _register(self, topic: str, et: EventType) -> int:
        subject = self.subject(topic, et)
        schema = expanded_schema(et)
        if self.auto_register:
            found = self.client.register(subject, schema)
        else:
            looked_up = self.client.lookup(subject, schema)
            if looked_up is None:
                raise SchemaRegistryError(
                    f"{et.name}'s schema is not registered under subject {subject!r} at "
                    f"{self.client.url} (TTXT_SCHEMA_AUTO_REGISTER=false: register it first)")
            found = looked_up
        # What this process writes under the id, it reads without asking again.
        self._writers.setdefault(found, (schema_fingerprint(schema), schema))
        return found

    def frame(self, single_object: bytes, schema_id: int) -> bytes:
        """A single-object record re-framed with a Confluent schema id (same Avro body)."""
        return CONFLUENT_MAGIC + schema_id.to_bytes(4, "big") + single_object[HEADER_LEN:]

    # ------------------------------------------------------------ consuming

    @staticmethod
    def schema_id_of(data: bytes) -> int:
        if len(data) < CONFLUENT_HEADER_LEN or data[:1] != CONFLUENT_MAGIC:
            raise CodecError("not a Confluent-framed record (expected 00 + 4-byte schema id)")
        return int.from_bytes(data[1:CONFLUENT_HEADER_LEN], "big")

    def knows(self, data: bytes) -> bool:
        """True when decoding `data` needs no registry call (its id is cached, or not framed)."""
        return data[:1] != CONFLUENT_MAGIC or len(data) < CONFLUENT_HEADER_LEN or (
            int.from_bytes(data[1:CONFLUENT_HEADER_LEN], "big") in self._writers)

    def writer(self, schema_id: int) -> tuple[bytes, dict[str, Any]]:
        """(fingerprint, schema) of the writer schema registered under `schema_id`."""
        found = self._writers.get(schema_id)
        if found is not None:
            return found
        return self._once(self._writers, schema_id, lambda: self._fetch_writer(schema_id))

    def _fetch_writer(self, schema_id: int) -> tuple[bytes, dict[str, Any]]:
        try:
            schema = self.client.schema(schema_id)
        except SchemaRegistryError as exc:
            if exc.status == 404:
                raise UnknownSchemaIdError(f"schema id {schema_id} is not in the schema "
                                           f"registry {self.client.url}") from None
            raise
        return schema_fingerprint(schema), schema

    def to_single_object(self, data: bytes, registry: Registry) -> bytes:
        """The same record as single-object bytes, its writer schema known to `registry` (added
        as another version of its event type when it is not the registered one)."""
        try:
            fp, schema = self.writer(self.schema_id_of(data))
        except (SchemaRegistryError, UnknownSchemaIdError):
            self.registry_errors += 1
            raise
        if fp not in registry.writers:
            try:
                registry.add_writer_schema(schema)
            except (RegistryError, KeyError, TypeError, ValueError) as exc:
                raise UnknownSchemaIdError(
                    f"schema id {self.schema_id_of(data)} ({schema.get('name')!r}) is not a ttxt "
                    f"event type this process knows: {exc}") from None
        return MAGIC + fp + data[CONFLUENT_HEADER_LEN:]

    # ------------------------------------------------------------ caching, failures

    def _once(self, cache: dict[Any, V], key: Any, fetch: Callable[[], V]) -> V:
        """`cache[key]`, fetched once under the lock (threads may ask together); a failure is
        remembered for RETRY_AFTER seconds and raised again meanwhile without asking."""
        with self._lock:
            found = cache.get(key)
            if found is not None:
                return found
            self._raise_if_failed_recently(key)
            try:
                found = fetch()
            except (SchemaRegistryError, UnknownSchemaIdError) as exc:
                self._remember_failure(key, exc)
                raise
            cache[key] = found
            return found

    def _raise_if_failed_recently(self, key: Any) -> None:
        failed = self._failed.get(key) or self._failed.get("*")
        if failed is not None and time.monotonic() < failed[0]:
            raise failed[1]

    def _remember_failure(self, key: Any,
                          exc: SchemaRegistryError | UnknownSchemaIdError) -> None:
        until = time.monotonic() + RETRY_AFTER
        if len(self._failed) > 10_000:  # garbage naming random ids: keep the memory bounded
            self._failed.clear()
        # An unreachable registry fails every call alike; a refusal is about this key only.
        self._failed["*" if isinstance(exc, SchemaRegistryUnavailableError) else key] = (
            until, exc)


__all__ = ["CONFLUENT_HEADER_LEN", "CONFLUENT_MAGIC", "REGISTRY_ERRORS", "ConfluentFraming",
           "SchemaRegistryClient", "SchemaRegistryError", "SchemaRegistryUnavailableError",
           "UnknownSchemaIdError", "expanded_schema"]
