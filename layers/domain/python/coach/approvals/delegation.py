"""Delegates: an approver who is away names someone to decide in their place for a period.

A delegation is (approver, delegate, from, until), kept in the approvals table (`coach approvers delegate` writes it
locally; on AWS an operator writes the same item, docs/architecture.md). While it is in force, every ask that would
go to the approver goes to the delegate instead, says on whose behalf, and the decision and its audit record name
both. One hop only: a delegate's own delegation is not followed (nobody ends up asked by a chain nobody chose).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, model_validator

from coach.approvals.records import Audience

if TYPE_CHECKING:
    from coach.ports import Delegations


class Delegation(BaseModel):
    model_config = ConfigDict(extra="ignore")

    approver: str = Field(min_length=3, max_length=254)
    delegate: str = Field(min_length=3, max_length=254)
    starts: float  # epoch seconds
    ends: float

    @model_validator(mode="after")
    def _valid(self) -> Delegation:
        if self.approver.strip().lower() == self.delegate.strip().lower():
            raise ValueError("an approver cannot be their own delegate")
        if self.ends <= self.starts:
            raise ValueError("a delegation must end after it starts")
        return self

    def in_force(self, now: float) -> bool:
        return self.starts <= now < self.ends


@dataclass(frozen=True)
class Asked:
    """One person asked one question: the address the email goes to, and on whose behalf."""

    recipient: str
    audience: Audience
    escalation_contact: bool = False
    on_behalf_of: str = ""


def delegate_for(approver: str, delegations: Delegations, now: float) -> str | None:
    """The delegate in force for `approver` now (the latest-starting one when periods overlap), or None."""
    current = [d for d in delegations.delegations_of(approver.strip().lower()) if d.in_force(now)]
    return max(current, key=lambda d: d.starts).delegate.strip().lower() if current else None


def delegated(
    asked: Iterable[tuple[str, Audience, bool]], delegations: Delegations | None, now: float
) -> list[Asked]:
    """Everyone to email for a question: an approver away is replaced by their delegate (once, even when the
    delegate was asked anyway or stands in for several of the people asked)."""
    people = list(asked)
    result: list[Asked] = []
    seen: set[str] = set()
    for recipient, audience, escalation_contact in people:
        delegate = delegate_for(recipient, delegations, now) if delegations is not None else None
        who, behalf = (delegate, recipient) if delegate else (recipient, "")
        if who in seen:
            continue
        seen.add(who)
        result.append(Asked(who, audience, escalation_contact, behalf))
    asked_directly = {r for r, _, _ in people}
    # someone asked in their own right is not told they stand in for another
    return [
        a if a.recipient not in asked_directly else Asked(a.recipient, a.audience, a.escalation_contact)
        for a in result
    ]


def on_behalf_note(on_behalf_of: str) -> str:
    return (
        f" You are asked on behalf of {on_behalf_of}, who named you as their delegate."
        if on_behalf_of
        else ""
    )


def parse_day(text: str, *, end: bool = False) -> float:
    """A YYYY-MM-DD day as epoch seconds: its start, or (end=True) the start of the day after."""
    day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    return day.timestamp() + (86_400 if end else 0)
