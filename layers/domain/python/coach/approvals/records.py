"""What the approval store holds. The raw link id is never stored: only its SHA-256."""

from __future__ import annotations

import hashlib
import secrets
from typing import Literal

from pydantic import BaseModel, ConfigDict

LinkState = Literal["pending", "approved", "declined", "superseded"]


def new_link_id() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def link_hash(link_id: str) -> str:
    return hashlib.sha256(link_id.encode("utf-8")).hexdigest()


def group_of(campaign_id: str, client_id: str, role: str) -> str:
    """Every link asking the same people the same question shares one decision."""
    return f"{campaign_id}#{client_id}#{role}"


class LinkRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")

    link_hash: str
    group: str
    task_token: str
    campaign_id: str
    client_id: str
    client_name: str
    role: Literal["account_team", "client"]
    recipient: str
    kind: Literal["ask", "reminder", "escalation"]
    attempt: int
    event_type: str
    drug_name: str
    effective_date: str
    summary: str
    affected: int
    reachable: int
    created_at: int
    expires_at: int
    state: LinkState = "pending"
    csrf_token: str


class DecisionRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")

    group: str
    decision: Literal["approved", "declined"]
    decided_by: str
    role: str
    decided_at: int
    link_hash: str
    delivered: bool = True


class AuditRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")

    campaign_id: str
    client_id: str
    at: str  # ISO-8601 UTC with microseconds: sorts in time order
    action: Literal["approved", "declined", "task_closed"]
    who: str
    role: str
    comment: str = ""
    source_ip: str = ""
    user_agent: str = ""
    link_hash: str
