"""EventBridge's two parts, which moto does not play: the market-event rule delivering to intake, and the
FAILED/TIMED_OUT/ABORTED status-change events of executions delivered to the notify function."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from coach.notices import STATUS_CHANGE, failure_event_pattern

from coach_local.runtime.environment import ACCOUNT, REGION

if TYPE_CHECKING:  # moto loads when the runtime starts, not when this module is imported
    from moto.events.utils import EventMessageType

MARKET_RULE_UNMATCHED = (
    "the event does not match the market-event rule (source coach.market-feed, detail-type Drug Market Event) "
    "nor the feed candidates' rule (source coach.feed.<feed>)"
)


def market_event_pattern() -> dict:
    from coach.intake import EVENT_PATTERN

    return EVENT_PATTERN


def matches(pattern_json: str, event: dict) -> bool:
    from moto.events.models import EventPattern

    return bool(EventPattern.load(pattern_json).matches_event(cast("EventMessageType", event)))


def as_bridge_event(envelope: dict) -> dict:
    """TestEventPattern needs the envelope fields EventBridge adds on delivery."""
    return {
        "id": "local",
        "account": ACCOUNT,
        "time": "2002-11-27T00:00:00Z",
        "region": REGION,
        "resources": [],
        "version": "0",
        **envelope,
    }


class StatusChanges:
    """Delivers each execution's failure status-change event once, as the deployed rule does (same pattern)."""

    def __init__(self, state_machine_arn: str, deliver: Callable[[dict], Any]) -> None:
        self.pattern = json.dumps(failure_event_pattern(state_machine_arn))
        self.state_machine_arn = state_machine_arn
        self.deliver = deliver
        self._delivered: set[str] = set()
        self._lock = threading.Lock()

    def emit(self, execution: dict, redrive_count: int) -> None:
        key = f"{execution['executionArn']}#{execution['status']}"
        with self._lock:
            if key in self._delivered:
                return
            self._delivered.add(key)
        event = status_change_event(execution, self.state_machine_arn, redrive_count)
        if matches(self.pattern, event):
            self.deliver(event)


def status_change_event(execution: dict, state_machine_arn: str, redrive_count: int) -> dict:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": STATUS_CHANGE,
        "source": "aws.states",
        "account": ACCOUNT,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": REGION,
        "resources": [execution["executionArn"]],
        "detail": {
            "executionArn": execution["executionArn"],
            "stateMachineArn": state_machine_arn,
            "name": execution["name"],
            "status": execution["status"],
            "startDate": int(execution["startDate"].timestamp() * 1000),
            "stopDate": int(execution["stopDate"].timestamp() * 1000) if execution.get("stopDate") else None,
            "input": execution.get("input"),
            "output": None,
            "error": execution.get("error"),
            "cause": execution.get("cause"),
            "redriveCount": redrive_count,
        },
    }
