"""Errors of the connector layer. Each names what failed, so a log line is enough to act on."""

from __future__ import annotations


class ConnectorError(Exception):
    """Base of every error raised by the connector layer."""


class MalformedMessage(ConnectorError):
    """A frame from the exchange that cannot be turned into events (bad JSON, missing fields).

    The connector logs and counts it, then goes on with the next frame.
    """


class ExchangeMessageError(ConnectorError):
    """The exchange answered on the WebSocket with an error (a refused subscription, ...)."""

    def __init__(self, exchange: str, code: str, message: str) -> None:
        super().__init__(f"{exchange} error {code}: {message}")
        self.exchange = exchange
        self.code = code
        self.message = message


class ExchangeError(ConnectorError):
    """A REST call failed: names the exchange, the endpoint, the HTTP status and the exchange's
    own error code and message (never the request's signature or key)."""

    def __init__(
        self,
        exchange: str,
        endpoint: str,
        status: int | None,
        code: str | None = None,
        message: str = "",
    ) -> None:
        parts = [f"{exchange} {endpoint} failed"]
        if status is not None:
            parts.append(f"HTTP {status}")
        if code is not None:
            parts.append(f"code {code}")
        text = ", ".join(parts)
        super().__init__(f"{text}: {message}" if message else text)
        self.exchange = exchange
        self.endpoint = endpoint
        self.status = status
        self.code = code
        self.message = message

    @property
    def retryable(self) -> bool:
        """Worth retrying an idempotent request: the server or the network, not the request."""
        return self.status is None or self.status >= 500 or self.status == 429


class RateLimitedError(ExchangeError):
    """HTTP 429/418: the exchange asks us to slow down (418 = IP banned for a while)."""

    def __init__(self, exchange: str, endpoint: str, status: int, retry_after: float | None,
                 code: str | None = None, message: str = "") -> None:
        super().__init__(exchange, endpoint, status, code, message)
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.status == 429
