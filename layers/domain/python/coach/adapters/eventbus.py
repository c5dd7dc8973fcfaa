"""Events onto EventBridge (coach.ports.EventPublisher), and its in-memory twin for tests."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from coach.adapters.aws import client

_BATCH = 10  # PutEvents takes at most 10 entries


class EventsRejected(RuntimeError):
    """EventBridge did not accept every entry (after one retry of the failed ones)."""


class EventBridgePublisher:
    def __init__(self, bus_name: str = "default") -> None:
        self.bus_name = bus_name

    def put(self, source: str, detail_type: str, details: Sequence[dict]) -> None:
        entries = [
            {
                "Source": source,
                "DetailType": detail_type,
                "Detail": json.dumps(d),
                "EventBusName": self.bus_name,
            }
            for d in details
        ]
        for start in range(0, len(entries), _BATCH):
            batch: list[dict[str, Any]] = entries[start : start + _BATCH]
            for attempt in range(2):
                answer = client("events").put_events(Entries=batch)
                failed = [e for e, r in zip(batch, answer["Entries"], strict=True) if r.get("ErrorCode")]
                if not failed:
                    break
                if attempt == 1:
                    codes = sorted({r["ErrorCode"] for r in answer["Entries"] if r.get("ErrorCode")})
                    raise EventsRejected(
                        f"EventBridge rejected {len(failed)} of {len(batch)} events: {codes}"
                    )
                batch = failed


class MemoryEventPublisher:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, dict]] = []

    def put(self, source: str, detail_type: str, details: Sequence[dict]) -> None:
        self.events.extend((source, detail_type, json.loads(json.dumps(d))) for d in details)
