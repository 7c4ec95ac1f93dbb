"""REST client: one pooled aiohttp session per connector, rate limits, retries, clear errors.

Signing is a hook (`SignHook`): each exchange's HMAC scheme plugs in there. A signed request
sets `query` to the exact, already encoded query string it signed, which is sent as is (a
params dict would be re-encoded by aiohttp and no longer match the signature). The client never
logs a request's query, headers or body, only method and path, so neither keys nor signatures
reach a log line.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import aiohttp
from yarl import URL

from .errors import ExchangeError, RateLimitedError
from .ratelimit import WeightLimiter

log = logging.getLogger(__name__)

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class RestRequest:
    """A request before it is sent: what a signing hook receives and returns (a changed copy)."""

    method: str
    path: str
    params: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str | None = None
    query: str = ""  # pre-encoded query string, sent byte for byte (replaces `params`)

    def with_(self, **changes: Any) -> RestRequest:
        return replace(self, **changes)


SignHook = Callable[[RestRequest], RestRequest]
# (HTTP status, parsed body) -> (exchange error code, message) if the body is an error, else None
ErrorParser = Callable[[int, Any], tuple[str, str] | None]


def _no_error(status: int, body: Any) -> tuple[str, str] | None:
    return None


class RestClient:
    """`await client.get(path, params, weight=...)` -> the parsed JSON body, or `ExchangeError`."""

    def __init__(
        self,
        exchange: str,
        base_url: str,
        *,
        limiter: WeightLimiter | None = None,
        sign: SignHook | None = None,
        error_parser: ErrorParser = _no_error,
        timeout: float = 10.0,
        retries: int = 3,
        retry_delay: float = 0.5,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.exchange = exchange
        self.base_url = base_url.rstrip("/")
        self.limiter = limiter
        self.sign = sign
        self.error_parser = error_parser
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.retries = retries
        self.retry_delay = retry_delay
        self._session = session
        self._own_session = session is None
        self.requests = 0
        self.failures = 0

    async def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # One pooled session per client: keep-alive connections are reused across calls.
            self._session = aiohttp.ClientSession(
                timeout=self.timeout,
                connector=aiohttp.TCPConnector(limit=16, ttl_dns_cache=300),
            )
            self._own_session = True
        return self._session

    async def close(self) -> None:
        if self._session is not None and self._own_session and not self._session.closed:
            await self._session.close()
        self._session = None

    async def __aenter__(self) -> RestClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def get(
        self,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        weight: float = 1.0,
        signed: bool = False,
    ) -> Any:
        return await self.request("GET", path, params, weight=weight, signed=signed)

    async def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        body: str | None = None,
        headers: Mapping[str, str] | None = None,
        weight: float = 1.0,
        signed: bool = False,
    ) -> Any:
        """Send one request; idempotent methods are retried with backoff on network errors,
        5xx and 429. Errors name the exchange, the endpoint and the exchange's code."""
        method = method.upper()
        endpoint = f"{method} {path}"
        attempts = self.retries + 1 if method in IDEMPOTENT else 1
        delay = self.retry_delay
        for attempt in range(1, attempts + 1):
            req = RestRequest(method, path, dict(params or {}), dict(headers or {}), body)
            if signed:
                if self.sign is None:
                    raise ExchangeError(self.exchange, endpoint, None, None,
                                        "a signed request needs API credentials (no signing hook)")
                req = self.sign(req)  # done per attempt: signatures carry a timestamp
            try:
                return await self._send(req, endpoint, weight)
            except ExchangeError as exc:
                self.failures += 1
                if attempt == attempts or not exc.retryable:
                    raise
                wait = delay * (1 + random.random() * 0.5)
                if isinstance(exc, RateLimitedError) and exc.retry_after:
                    wait = max(wait, exc.retry_after)
                log.warning("%s; retrying in %.1fs (attempt %d/%d)", exc, wait, attempt, attempts)
                await asyncio.sleep(wait)
                delay *= 2
        raise AssertionError("unreachable")

    async def _send(self, req: RestRequest, endpoint: str, weight: float) -> Any:
        if self.limiter is not None:
            await self.limiter.acquire(weight)
        session = await self._get_session()
        self.requests += 1
        url: str | URL = self.base_url + req.path
        params = dict(req.params) or None
        if req.query:
            url, params = URL(f"{url}?{req.query}", encoded=True), None
        try:
            async with session.request(
                req.method, url, params=params, headers=dict(req.headers) or None,
                data=req.body,
            ) as resp:
                status = resp.status
                text = await resp.text()
                retry_after = resp.headers.get("Retry-After")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ExchangeError(self.exchange, endpoint, None, None,
                                f"{type(exc).__name__}: {exc}") from exc
        try:
            parsed: Any = json.loads(text) if text else None
        except ValueError:
            parsed = None
        err = self.error_parser(status, parsed) if parsed is not None else None
        if status in (418, 429):
            code, msg = err or (None, text[:200])
            wait = float(retry_after) if retry_after and retry_after.isdigit() else None
            if self.limiter is not None and wait:
                self.limiter.penalize(wait)
            raise RateLimitedError(self.exchange, endpoint, status, wait, code, msg)
        if err is not None:
            raise ExchangeError(self.exchange, endpoint, status, err[0], err[1])
        if status >= 400:
            raise ExchangeError(self.exchange, endpoint, status, None, text[:200])
        if parsed is None:
            raise ExchangeError(self.exchange, endpoint, status, None,
                                f"response is not JSON: {text[:120]!r}")
        return parsed
