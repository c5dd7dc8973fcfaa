"""Playbooks as data: one validated JSON file per event type, in this folder."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from coach.brief.policy import BriefPolicy
from coach.models import EVENT_TYPES, EventType, MarketEvent, SensitiveClass, Waits
from coach.outcomes.policy import Measurement, check_holdout
from coach.prescribers.policy import PrescriberPolicy

DAY = 86_400


class PlaybookError(ValueError):
    """A playbook file that does not validate; the message names the file."""


class ApprovalPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ask_client: bool = Field(description="False: the account team's approval is the client's go-ahead too")
    account_team_timeout_seconds: int = Field(ge=60, le=30 * DAY)
    client_timeout_seconds: int = Field(ge=60, le=30 * DAY)
    reminders: int = Field(ge=0, le=5, description="reminders with a fresh link before escalating")
    escalate: bool = Field(description="after the last reminder, email the client's escalation contact")


class Playbook(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_type: EventType
    title: str = Field(min_length=1, max_length=120)
    lookback_days: int = Field(ge=1, le=3650)
    allowed_sensitive_classes: list[SensitiveClass] = Field(default_factory=list)
    template_id: str = Field(pattern=r"^[a-z0-9_]+$")
    mandatory_recall_classes: list[Literal["I", "II", "III"]] = Field(default_factory=list)
    feed_lead_days: int | None = Field(
        default=None,
        ge=1,
        le=730,
        description="patent_expiry: days before the date the Orange Book feed raises it",
    )
    approval: ApprovalPolicy
    # the pharmacist's brief: projection prices and recommendations (docs/brief.md)
    brief: BriefPolicy | None = None
    # who tells prescribers about their affected patients (coach.prescribers.policy; absent: nobody)
    prescribers: PrescriberPolicy = Field(default_factory=PrescriberPolicy)
    # a holdout and a follow-up period (coach.outcomes): never a holdout for a recall
    measurement: Measurement | None = None

    @model_validator(mode="after")
    def _mandatory_only_for_recalls(self) -> Playbook:
        if self.mandatory_recall_classes and self.event_type != "recall":
            raise ValueError("mandatory_recall_classes is only meaningful for the recall playbook")
        if self.feed_lead_days is not None and self.event_type != "patent_expiry":
            raise ValueError("feed_lead_days is only meaningful for the patent_expiry playbook")
        if self.measurement is not None:
            check_holdout(self.event_type, self.measurement.holdout_share)
        return self

    def is_mandatory(self, event: MarketEvent) -> bool:
        """A mandatory notice goes out without asking the client (class I recalls)."""
        return event.recall_class is not None and event.recall_class in self.mandatory_recall_classes

    def waits(self, time_scale: float = 1.0) -> Waits:
        """Callback timeouts for this runtime: time_scale < 1 shrinks days to seconds for local runs."""
        return Waits(
            account_team_seconds=max(1, round(self.approval.account_team_timeout_seconds * time_scale)),
            client_seconds=max(1, round(self.approval.client_timeout_seconds * time_scale)),
            reminders=self.approval.reminders,
            escalate=self.approval.escalate,
        )


def parse_playbook(text: str, source: str) -> Playbook:
    try:
        return Playbook.model_validate(json.loads(text))
    except json.JSONDecodeError as exc:
        raise PlaybookError(f"{source}: not valid JSON (line {exc.lineno}: {exc.msg})") from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(file)'}: {err['msg']}" for err in exc.errors()
        )
        raise PlaybookError(f"{source}: {problems}") from exc


@cache
def load_playbook(event_type: str) -> Playbook:
    if event_type not in EVENT_TYPES:
        raise PlaybookError(f"no playbook for event type {event_type!r}")
    name = f"{event_type}.json"
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    playbook = parse_playbook(text, f"playbooks/{name}")
    if playbook.event_type != event_type:
        raise PlaybookError(
            f"playbooks/{name}: event_type is {playbook.event_type!r}, expected {event_type!r}"
        )
    return playbook


def all_playbooks() -> dict[str, Playbook]:
    return {event_type: load_playbook(event_type) for event_type in EVENT_TYPES}
