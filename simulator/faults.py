"""Fault injection: what can go wrong on the wire, on demand.

A fault is injected through `Simulator.inject(...)` or `POST /_sim/fault` (same JSON fields as
`Fault`). WebSocket faults go to the open sessions they target (all, or `session`); when none is
open they wait for the next session that opens. `stale_snapshot` waits for the next REST depth
call(s); the trading kinds wait for the next order request(s) (REST or Bybit's trade WS).
Every application is recorded in `applied` (visible in `GET /_sim/state`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from ttxt_kafka.simulator.session import Session


class FaultKind(StrEnum):
    DROP_CONNECTION = "drop_connection"  # close the socket now
    DROP_MESSAGE = "drop_message"  # silently skip the next `count` book updates: a sequence gap
    DELAY = "delay"  # hold the next `count` market-data frames for `ms` each
    MALFORMED_FRAME = "malformed_frame"  # send `count` broken frames (see `variant`)
    # the next `count` book updates carry impossible numbers (variant: huge | negative | crossed)
    BAD_NUMBERS = "bad_numbers"
    STALE_SNAPSHOT = "stale_snapshot"  # next REST depth answer lags `behind` ids behind the stream
    # trading (the private side): the next `count` order requests get the venue's answer for
    RATE_LIMIT = "rate_limit"  # too many requests (Binance HTTP 429 -1003, Bybit 10006)
    BAD_SIGNATURE = "bad_signature"  # a signature that does not verify (-1022, 10004)
    INSUFFICIENT_BALANCE = "insufficient_balance"  # new orders only (-2010 / -2019, 110007)


TRADING_FAULTS = frozenset({FaultKind.RATE_LIMIT, FaultKind.BAD_SIGNATURE,
                            FaultKind.INSUFFICIENT_BALANCE})


MalformedVariant = Literal["garbage", "truncated", "missing_fields",  # malformed_frame
                           "huge", "negative", "crossed"]  # bad_numbers


class Fault(BaseModel):
    """One fault request. Unused fields are ignored by kinds they do not apply to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: FaultKind
    session: Annotated[int | None, Field(description="target session id; default: all open")] = None
    symbol: Annotated[str | None, Field(description="only this symbol's messages")] = None
    count: Annotated[int, Field(ge=1, description="how many messages / snapshots")] = 1
    ms: Annotated[int, Field(ge=0, le=600_000, description="delay per held frame")] = 0
    variant: MalformedVariant = "garbage"
    graceful: Annotated[bool, Field(description="drop_connection: close frame, not a cut")] = False
    code: Annotated[int, Field(ge=1000, le=4999, description="graceful close code")] = 1001
    behind: Annotated[int, Field(ge=1, description="stale_snapshot: ids before the stream")] = 1000


@dataclass
class ActiveFault:
    """A fault being consumed by one session or by the REST side."""

    fault: Fault
    remaining: int

    def matches(self, symbol: str | None) -> bool:
        return self.fault.symbol is None or symbol is None or self.fault.symbol == symbol


@dataclass
class FaultController:
    """Routes injected faults to sessions and REST calls, and keeps the log of applied ones."""

    applied: list[dict[str, Any]] = field(default_factory=list)
    _waiting_ws: list[Fault] = field(default_factory=list)  # for the next session that opens
    _rest: list[ActiveFault] = field(default_factory=list)
    _trading: list[ActiveFault] = field(default_factory=list)

    def inject(self, fault: Fault, sessions: list[Session]) -> dict[str, Any]:
        if fault.kind in TRADING_FAULTS:
            self._trading.append(ActiveFault(fault, fault.count))
            return {"fault": fault.model_dump(mode="json"), "targets": "trading"}
        if fault.kind is FaultKind.STALE_SNAPSHOT:
            self._rest.append(ActiveFault(fault, fault.count))
            return {"fault": fault.model_dump(mode="json"), "targets": "rest"}
        if fault.session is not None:
            sessions = [s for s in sessions if s.id == fault.session]
            if not sessions:
                raise LookupError(f"no open session {fault.session}")
        if not sessions:
            self._waiting_ws.append(fault)
            return {"fault": fault.model_dump(mode="json"), "targets": "next_session"}
        for s in sessions:
            s.add_fault(fault)
        return {"fault": fault.model_dump(mode="json"), "targets": [s.id for s in sessions]}

    def session_opened(self, session: Session) -> None:
        waiting, self._waiting_ws = self._waiting_ws, []
        for fault in waiting:
            session.add_fault(fault)

    def take_stale(self, symbol: str) -> Fault | None:
        """The stale_snapshot fault to apply to this REST depth call, if any."""
        for active in self._rest:
            if active.matches(symbol):
                active.remaining -= 1
                if active.remaining == 0:
                    self._rest.remove(active)
                self.record(active.fault.kind, None, symbol=symbol)
                return active.fault
        return None

    def take_trading(self, kind: FaultKind, symbol: str | None = None) -> Fault | None:
        """The trading fault of `kind` to apply to this order request, if any."""
        for active in self._trading:
            if active.fault.kind is kind and active.matches(symbol):
                active.remaining -= 1
                if active.remaining == 0:
                    self._trading.remove(active)
                self.record(kind, None, symbol=symbol)
                return active.fault
        return None

    @property
    def pending(self) -> int:
        return (len(self._waiting_ws) + sum(a.remaining for a in self._rest)
                + sum(a.remaining for a in self._trading))

    def record(
        self, kind: FaultKind, session: int | None, *, symbol: str | None = None, detail: str = ""
    ) -> None:
        self.applied.append(
            {
                "kind": kind.value,
                "session": session,
                "symbol": symbol,
                "detail": detail,
                "at": time.time(),
            }
        )
