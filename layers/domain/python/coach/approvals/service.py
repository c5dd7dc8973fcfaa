"""Ask, show, decide. Errors with meaning are raised by the checks and turned into pages in ONE place (`page_for`)."""

from __future__ import annotations

import hmac
import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache

from botocore.exceptions import ClientError
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from coach.approvals.records import (
    AuditRecord,
    DecisionRecord,
    LinkRecord,
    group_of,
    link_hash,
    new_link_id,
)
from coach.approvals.store import ApprovalStore
from coach.audience.privacy import client_facing_count
from coach.models import DECLINED_ERROR, ApprovalRequest
from coach.ports import Email, Mailer, ObjectStore, WorkflowCallbacks

GRACE_SECONDS = 300
MAX_COMMENT = 1000
EVENT_LABELS = {
    "otc_switch": "moves over the counter", "patent_expiry": "loses its patent (lower-cost generic)",
    "generic_launch": "first generic launches", "new_drug": "new drug on the market", "recall": "recall",
    "formulary_change": "formulary change",
}
ROLE_LABELS = {"account_team": "the account team", "client": "the benefits contact"}
CLOSED_CODES = {"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"}
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
}


class ApprovalError(Exception):
    status = 400
    title = "This request cannot be completed"
    message = "Something about this request is not right."


class LinkNotFound(ApprovalError):
    status, title = 404, "Link not recognised"
    message = "This approval link is not valid. Please use the most recent email you received."


class LinkExpired(ApprovalError):
    status, title = 410, "This link has expired"
    message = "The time to decide has passed. The campaign team has been told that nobody answered in time."


class LinkSuperseded(ApprovalError):
    status, title = 410, "This link was replaced"
    message = "A newer email with a fresh link was sent for this decision. Please use the link in the newest email."


class CsrfMismatch(ApprovalError):
    status, title = 403, "Please decide from the page"
    message = "This decision did not come from the confirmation page. Open the link from your email and use its buttons."


class BadDecision(ApprovalError):
    status, title = 400, "Choose Approve or Decline"
    message = "Please choose Approve or Decline on the confirmation page."


class TaskNoLongerWaiting(ApprovalError):
    status, title = 410, "This request is no longer waiting"
    message = "The campaign stopped waiting for this decision (it timed out or was closed). Nothing was sent because of this click."


@dataclass
class Page:
    status: int
    html: str
    headers: dict[str, str] = field(default_factory=lambda: dict(SECURITY_HEADERS))


@cache
def _env(autoescape: bool) -> Environment:
    return Environment(loader=PackageLoader("coach.approvals", "templates"), undefined=StrictUndefined,
                       autoescape=select_autoescape(["html", "j2"]) if autoescape else False)


def _when(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%A %d %B %Y, %H:%M UTC")


def _counts(link: LinkRecord) -> tuple[str, str]:
    if link.role == "account_team":  # internal: exact counts
        return f"{link.affected:,}", f"{link.reachable:,}"
    return client_facing_count(link.affected), client_facing_count(link.reachable)


def _render(**context: object) -> str:
    context.setdefault("accent", "#0a3069")
    for name in ("form", "link", "role_label", "event_label", "affected", "reachable", "deadline", "csrf_token",
                 "message", "detail"):
        context.setdefault(name, None)
    return _env(True).get_template("page.html.j2").render(**context)


def page_for(error: ApprovalError, detail: str | None = None) -> Page:
    accent = "#a40e26" if error.status >= 400 else "#1a7f37"
    return Page(error.status, _render(title=error.title, message=error.message, detail=detail, accent=accent))


def _decided_page(decision: DecisionRecord, status: int = 200, fresh: bool = False) -> Page:
    verb = "approved" if decision.decision == "approved" else "declined"
    title = f"Thank you: you {verb} this request" if fresh else f"Already {verb}"
    message = (f"Your decision was recorded at {_when(decision.decided_at)}." if fresh else
               f"This request was {verb} by {decision.decided_by} at {_when(decision.decided_at)}. Nothing more is needed.")
    return Page(status, _render(title=title, message=message, accent="#1a7f37"))


# --- asking ----------------------------------------------------------------------------------------------------
def recipients_for(request: ApprovalRequest, contacts: dict) -> list[str]:
    role_list = contacts.get("account_team_emails" if request.role == "account_team" else "client_contact_emails") or []
    if request.kind == "escalation" and contacts.get("escalation_email"):
        return [contacts["escalation_email"]]
    return sorted({str(r).strip() for r in role_list if str(r).strip()})


def request_approval(request: ApprovalRequest, *, store: ApprovalStore, mailer: Mailer, objects: ObjectStore,
                     data_bucket: str, sender: str, base_url: str, now: int) -> list[str]:
    """Create one link per recipient and email it. Earlier pending links of the same question are superseded."""
    contacts = json.loads(objects.get(data_bucket, request.client.contacts_key))
    group = group_of(request.campaign_id, request.client.client_id, request.role)
    if request.kind != "ask":
        for old in store.group_links(group):
            if old.state == "pending" and old.attempt < request.attempt:
                store.set_link_state(old.link_hash, "superseded")
    sent = []
    deadline = now + request.deadline_seconds
    for recipient in recipients_for(request, contacts):
        link_id = new_link_id()
        link = LinkRecord(
            link_hash=link_hash(link_id), group=group, task_token=request.task_token,
            campaign_id=request.campaign_id, client_id=request.client.client_id,
            client_name=request.client.client_name, role=request.role, recipient=recipient, kind=request.kind,
            attempt=request.attempt, event_type=request.event.event_type, drug_name=request.event.drug.name,
            effective_date=request.event.effective_date.strftime("%B %-d, %Y"), summary=request.event.summary,
            affected=request.client.affected, reachable=request.client.reachable, created_at=now,
            expires_at=deadline + GRACE_SECONDS, csrf_token=secrets.token_urlsafe(32))
        store.put_link(link)
        mailer.send(_request_email(request, link, f"{base_url}/a/{link_id}", deadline, sender))
        sent.append(recipient)
    return sent


def _request_email(request: ApprovalRequest, link: LinkRecord, url: str, deadline: int, sender: str) -> Email:
    affected, reachable = _counts(link)
    event_label = EVENT_LABELS.get(link.event_type, link.event_type)
    prefix = {"ask": "Decision needed", "reminder": "Reminder: decision needed",
              "escalation": "Escalation: decision needed"}[request.kind]
    who = "account team" if request.role == "account_team" else "benefits team"
    intro = {
        "ask": f"A market event affects members of {link.client_name}. Please decide whether they receive a letter.",
        "reminder": f"We have not yet heard from the {who} of {link.client_name}. The earlier link no longer works; "
                    "please use this one.",
        "escalation": f"Nobody on the {who} of {link.client_name} has answered. You are the escalation contact: "
                      "please decide, or nothing will be sent.",
    }[request.kind]
    context = {"greeting": "Hello,", "intro": intro, "drug_name": link.drug_name, "event_label": event_label,
               "effective_date": link.effective_date, "client_name": link.client_name, "client_id": link.client_id,
               "affected": affected, "reachable": reachable, "deadline": _when(deadline), "summary": link.summary,
               "link": url, "recipient": link.recipient}
    return Email(
        to=(link.recipient,), sender=sender,
        subject=f"{prefix}: {link.drug_name} {event_label} — {link.client_name}",
        text=_env(False).get_template("request.txt.j2").render(**context),
        html=_env(True).get_template("request.html.j2").render(**context),
        idempotency_key=f"approval/{request.campaign_id}/{link.client_id}/{request.role}/{request.attempt}/{link.recipient}",
        tags={"kind": "approval", "campaign": request.campaign_id, "client": link.client_id, "role": request.role,
              "attempt": str(request.attempt), "request": request.kind},
    )


# --- the page --------------------------------------------------------------------------------------------------
def _live_link(store: ApprovalStore, link_id: str, now: int) -> tuple[LinkRecord, DecisionRecord | None]:
    if not (20 <= len(link_id) <= 100):
        raise LinkNotFound()
    link = store.get_link(link_hash(link_id))
    if link is None:
        raise LinkNotFound()
    decision = store.get_decision(link.group)
    if decision is None:
        if link.state == "superseded":
            raise LinkSuperseded()
        if now > link.expires_at:
            raise LinkExpired()
    return link, decision


def show(link_id: str, *, store: ApprovalStore, now: int) -> Page:
    """GET: the confirmation page. It never decides anything."""
    try:
        link, decision = _live_link(store, link_id, now)
    except ApprovalError as error:
        return page_for(error)
    if decision is not None:
        return _closed_or_decided(decision)
    affected, reachable = _counts(link)
    html = _render(form=True, title="Please confirm your decision", link=link, role_label=ROLE_LABELS[link.role],
                   event_label=EVENT_LABELS.get(link.event_type, link.event_type), affected=affected,
                   reachable=reachable, deadline=_when(link.expires_at - GRACE_SECONDS), csrf_token=link.csrf_token)
    return Page(200, html)


def _closed_or_decided(decision: DecisionRecord) -> Page:
    if not decision.delivered:
        return page_for(TaskNoLongerWaiting())
    return _decided_page(decision)


def decide(link_id: str, form: dict[str, str], *, store: ApprovalStore, callbacks: WorkflowCallbacks, now: int,
           source_ip: str = "", user_agent: str = "") -> Page:
    """POST: check everything, record the first decision, audit it, then tell the workflow."""
    try:
        link, existing = _live_link(store, link_id, now)
        if existing is not None:
            return _closed_or_decided(existing)
        if not hmac.compare_digest(str(form.get("csrf_token", "")), link.csrf_token):
            raise CsrfMismatch()
        choice = form.get("decision")
        if choice not in ("approve", "decline"):
            raise BadDecision()
    except ApprovalError as error:
        return page_for(error)
    decision = DecisionRecord(group=link.group, decision="approved" if choice == "approve" else "declined",
                              decided_by=link.recipient, role=link.role, decided_at=now, link_hash=link.link_hash)
    if not store.claim_decision(decision):  # someone else on the team was first
        winner = store.get_decision(link.group)
        return _closed_or_decided(winner) if winner else page_for(LinkNotFound())
    comment = str(form.get("comment", ""))[:MAX_COMMENT]
    store.append_audit(AuditRecord(
        campaign_id=link.campaign_id, client_id=link.client_id, at=_iso_now(), action=decision.decision,
        who=link.recipient, role=link.role, comment=comment, source_ip=source_ip[:64], user_agent=user_agent[:256],
        link_hash=link.link_hash))
    try:
        if decision.decision == "approved":
            callbacks.succeed(link.task_token, {"decision": "approved", "role": link.role, "decided_at": now})
        else:
            callbacks.fail(link.task_token, DECLINED_ERROR, f"{link.role} declined")
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in CLOSED_CODES:
            raise
        store.mark_undelivered(link.group)
        store.append_audit(AuditRecord(
            campaign_id=link.campaign_id, client_id=link.client_id, at=_iso_now(), action="task_closed",
            who=link.recipient, role=link.role, source_ip=source_ip[:64], user_agent=user_agent[:256],
            link_hash=link.link_hash))
        return page_for(TaskNoLongerWaiting())
    store.set_link_state(link.link_hash, decision.decision)
    return _decided_page(decision, fresh=True)


def _iso_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def audit_trail(campaign_id: str, *, store: ApprovalStore) -> list[AuditRecord]:
    return store.audit(campaign_id)
