"""The review stage's shapes: the notes a feed puts on its candidate, the block intake adds to the campaign input,
the review task's input, and the policy that times it (policy.json beside this file)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from coach.models import MarketEvent

DAY = 86_400
REVIEW_ROLE: Final = "clinical_reviewer"
REVIEW_CLIENT = (
    "clinical-review"  # the approvals store keys a question by client: the review is the campaign's own
)
NDCS = "drug.ndcs"
# the fields a pharmacist may correct (docs/feeds.md); every other field is the feed's and stays as published
CORRECTABLE = ("drug.ndcs", "effective_date", "alternatives", "summary")
ReviewOutcome = Literal["dismissed", "no_review"]


class ReviewNotes(BaseModel):
    """`detail.review` of a feed candidate (coach.feeds.candidate.Candidate.as_json)."""

    model_config = ConfigDict(extra="forbid")

    reasons: list[str] = Field(default_factory=list, max_length=50)
    missing: list[str] = Field(default_factory=list, max_length=10)


class ReviewPolicy(BaseModel):
    """How long the clinical pharmacists have, how often they are reminded, and whether it escalates."""

    model_config = ConfigDict(extra="forbid")

    timeout_seconds: int = Field(ge=60, le=30 * DAY)
    class_i_timeout_seconds: int = Field(ge=60, le=30 * DAY, description="a class I recall's shorter wait")
    reminders: int = Field(ge=0, le=5)
    escalate: bool

    def seconds_for(self, event: MarketEvent) -> int:
        return self.class_i_timeout_seconds if event.recall_class == "I" else self.timeout_seconds


@cache
def review_policy() -> ReviewPolicy:
    text = resources.files(__package__).joinpath("policy.json").read_text(encoding="utf-8")
    return ReviewPolicy.model_validate(json.loads(text))


class ReviewBlock(BaseModel):
    """`review` of the campaign input: present only for a feed's candidate; the ASL's first Choice reads it."""

    model_config = ConfigDict(extra="forbid")

    source: str  # the bus source the candidate came from (coach.feed.<feed>)
    reasons: list[str] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list)
    deadline_seconds: int = Field(ge=1)
    reminders: int = Field(ge=0, le=5)
    escalate: bool


def review_block(notes: ReviewNotes, source: str, event: MarketEvent, time_scale: float) -> ReviewBlock:
    policy = review_policy()
    return ReviewBlock(
        source=source,
        reasons=notes.reasons,
        missing=notes.missing,
        deadline_seconds=max(1, round(policy.seconds_for(event) * time_scale)),
        reminders=policy.reminders,
        escalate=policy.escalate,
    )


class ReviewRequest(BaseModel):
    """Input of the review task (`.waitForTaskToken`): ask the clinical pharmacists about the candidate."""

    model_config = ConfigDict(extra="ignore")

    campaign_id: str
    task_token: str = Field(min_length=1, max_length=2048)
    event: MarketEvent
    review: ReviewBlock
    kind: Literal["ask", "reminder", "escalation"] = "ask"
    attempt: int = Field(default=0, ge=0)


class ReviewClosing(BaseModel):
    """Input of the review function's closing step: the campaign ends without an audience (dismissed, or nobody
    reviewed it in time)."""

    model_config = ConfigDict(extra="ignore")

    campaign_id: str
    event: MarketEvent
    outcome: ReviewOutcome


# The error a dismissal sends with SendTaskFailure; the ASL catches it by this name.
DISMISSED_ERROR = "Coach.Dismissed"
