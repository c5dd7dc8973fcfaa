"""What the approval store holds. The raw link id is never stored: only its SHA-256."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

# closed: its wait timed out (no_response) or its client's branch ended; nobody may answer it any more
LinkState = Literal[
    "pending", "approved", "declined", "superseded", "closed", "confirmed", "corrected", "dismissed"
]
Audience = Literal["internal", "client"]  # whose counts the recipient may see
Delivery = Literal["pending", "delivered", "closed"]  # has the workflow been told?
# confirmed, corrected, dismissed: a clinical pharmacist's review of a feed candidate (coach.review)
Choice = Literal["approved", "declined", "confirmed", "corrected", "dismissed"]
# late_click: an answer to a link whose wait had closed; kept for the audit, never a decision
AuditAction = Literal[
    "approved", "declined", "task_closed", "late_click", "confirmed", "corrected", "dismissed"
]
# who a link asks: a client's account team or benefits contact, or (first stage of a feed's campaign) the clinical
# pharmacists reviewing the candidate
LinkRole = Literal["account_team", "client", "clinical_reviewer"]


def new_link_id() -> str:
    """256 random bits, URL-safe (43 characters)."""
    return secrets.token_urlsafe(32)


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def link_hash(link_id: str) -> str:
    return hashlib.sha256(link_id.encode("utf-8")).hexdigest()


def group_of(campaign_id: str, client_id: str, role: str) -> str:
    """Every link asking the same people the same question shares one decision."""
    return f"{campaign_id}#{client_id}#{role}"


def iso(epoch: float) -> str:
    """UTC ISO-8601 with microseconds: sorts as text in time order."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LinkRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")

    link_hash: str
    group: str
    task_token: str
    campaign_id: str
    client_id: str
    client_name: str
    role: LinkRole
    recipient: str
    audience: Audience
    kind: Literal["ask", "reminder", "escalation"]
    escalation_contact: bool = False  # asked because nobody on the team answered
    attempt: int
    event_type: str
    drug_name: str
    effective_date: str  # ISO date
    summary: str
    recall_class: str | None = None
    affected: int
    reachable: int
    prescribers: int | None = None  # prescribers an approval would notify (issue 17); None: none are told
    held_out: int = 0  # reachable members the campaign's holdout keeps from a letter (coach.outcomes)
    created_at: float  # epoch seconds (sub-second: response times are measured from it)
    deadline: int  # when the workflow stops waiting
    expires_at: int  # deadline + grace
    state: LinkState = "pending"
    csrf_token: str
    # a clinical review's question: the candidate event and its review notes as JSON (public news, never PHI)
    context: str | None = None
    # the pharmacist's brief as this recipient may see it (coach.brief.views.view, JSON; counts and sums only)
    brief_json: str | None = None
    # The specimen letters its page shows (coach.letters.specimen.specimens_json): template versions and text
    specimens: str = ""
    on_behalf_of: str = ""  # the approver who named this recipient their delegate (docs/architecture.md)
    election: str = (
        ""  # the client's election for this event type (what the thank-you page says happens next)
    )
    ask_client: bool | None = (
        None  # does the playbook ask the client after the account team (None: not known)
    )


class DecisionRecord(BaseModel):
    """The one decision of a group (conditional write: the first wins)."""

    model_config = ConfigDict(extra="ignore")

    group: str
    campaign_id: str
    client_id: str
    role: str
    decision: Choice
    decided_by: str
    decided_at: float
    link_hash: str
    task_token: str
    attempt: int
    delivery: Delivery = "pending"
    # a clinical review's answer as the workflow is told it (the confirmed or corrected event, JSON): a later POST
    # that passes on a decision recorded but never delivered sends exactly this
    result: str | None = None
    templates_shown: str = (
        ""  # JSON language → SHA-256 of the template versions the page showed (the approved ones)
    )
    reason: str = ""  # a decline's reason (coach.approvals.reasons)
    on_behalf_of: str = ""  # decided_by was the delegate of this approver

    @property
    def decided_at_iso(self) -> str:
        return iso(self.decided_at)


class AuditRecord(BaseModel):
    """Append-only: written before the workflow hears of a decision, never overwritten."""

    model_config = ConfigDict(extra="ignore")

    campaign_id: str
    client_id: str
    at: str  # ISO-8601 UTC with microseconds
    action: AuditAction
    who: str
    role: str
    attempt: int = 0
    comment: str = ""
    source_ip: str = ""
    user_agent: str = ""
    link_hash: str
    step: int = 0  # orders records written in the same instant for the same link
    templates_shown: str = ""  # JSON language → SHA-256 of the template versions the decided page showed
    reason: str = ""  # a decline's reason (coach.approvals.reasons)
    on_behalf_of: str = ""  # `who` decided as the delegate of this approver

    @property
    def sort_key(self) -> str:
        """The record's place in the campaign's trail: time, then link, then step."""
        return f"{self.at}#{self.link_hash[:16]}#{self.step}"

    @property
    def table_key(self) -> str:
        """Where the store keeps it in the campaign's partition: by question first, so that one question's records
        are read without the rest of the campaign's."""
        return question_prefix(self.client_id, self.role) + self.sort_key


def question_prefix(client_id: str, role: str) -> str:
    return f"{role}#{client_id}#"


# what the open-waits index projects: who is asked, for which campaign and client, since when, until when (no
# token, no address)
OPEN_WAIT_FIELDS = ("group", "campaign_id", "client_id", "client_name", "role", "kind", "deadline")


@dataclass(frozen=True)
class OpenLink:
    """A pending link as the open-waits index holds it."""

    group: str
    campaign_id: str
    client_id: str
    client_name: str
    role: str
    kind: str
    created_at: float
    deadline: int

    @staticmethod
    def of(fields: dict[str, Any]) -> OpenLink:
        return OpenLink(
            group=str(fields["group"]),
            campaign_id=str(fields["campaign_id"]),
            client_id=str(fields["client_id"]),
            client_name=str(fields["client_name"]),
            role=str(fields["role"]),
            kind=str(fields["kind"]),
            created_at=float(fields["created_at"]),
            deadline=int(fields["deadline"]),
        )


# Where a record lives in the approvals table (`pk`, `sk`); the in-memory store keeps the same keys.
def link_key(link_hash: str) -> tuple[str, str]:
    return f"link#{link_hash}", "link"


def decision_key(group: str) -> tuple[str, str]:
    return f"decision#{group}", "decision"


def reopenable(decision: DecisionRecord | None, task_token: str) -> bool:
    return decision is not None and decision.delivery != "delivered" and decision.task_token != task_token
