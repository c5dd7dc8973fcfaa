"""What the digest keeps: the asks waiting to be sent to a person, the digests sent, and the store's protocol."""

from __future__ import annotations

import hashlib

from pydantic import BaseModel, ConfigDict, Field

from coach.approvals.records import Audience, group_of
from coach.models import ApprovalRequest

MAX_DIGEST_ROWS = 40  # one page and one POST stay small; a person asked more often gets several digests


def person_key(recipient: str, campaign_id: str) -> str:
    """The queue a person's asks of one campaign wait in (one digest per person and campaign): a hash, so no
    address appears in a key."""
    return hashlib.sha256(f"{recipient.strip().lower()}\n{campaign_id}".encode()).hexdigest()[:32]


class QueuedAsk(BaseModel):
    """One question for one person, stored when the task token arrives and sent in the person's next digest."""

    model_config = ConfigDict(extra="ignore")

    recipient: str
    audience: Audience
    escalation_contact: bool = False
    on_behalf_of: str = ""
    queued_at: float
    request: ApprovalRequest  # the task's input (ids, counts, the event and its token; no member data)
    brief_json: str | None = None  # the brief as this person may see it (counts and sums only)
    specimens: str = ""  # the specimen letters the person's page shows (coach.letters.specimen)

    @property
    def person(self) -> str:
        return person_key(self.recipient, self.request.campaign_id)

    @property
    def group(self) -> str:
        return group_of(self.request.campaign_id, self.request.client.client_id, self.request.role)


class DigestRecord(BaseModel):
    """A digest sent: its link (stored as a hash), the per-client links it stands for, in the order shown."""

    model_config = ConfigDict(extra="ignore")

    digest_hash: str
    recipient: str
    link_hashes: list[str] = Field(min_length=1)
    csrf_token: str
    created_at: float
    expires_at: int
