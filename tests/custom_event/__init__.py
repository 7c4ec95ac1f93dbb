"""The custom event of the README's "Adding a custom event" section, exactly as written there."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from ttxt_kafka.events import Event
from ttxt_kafka.registry import register_event


@dataclass(slots=True, kw_only=True)
class FundingRate(Event):
    SCHEMA: ClassVar[str] = "FundingRate"

    rate: str
    next_funding_ts: int


SCHEMA = json.loads((Path(__file__).parent / "FundingRate.avsc").read_text())
register_event(FundingRate, SCHEMA, handler="on_funding_rate", channel="funding")
