"""Asking (docs/architecture.md, decision 4): who is asked about a client, one link each, and the email carrying it.

A reminder or escalation supersedes the group's earlier pending links; a redriven campaign reuses a decision these
people already delivered instead of asking again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from coach.addresses import recipients_of
from coach.approvals.delegation import Asked, delegated, on_behalf_note
from coach.approvals.pages import event_label, request_email_bodies
from coach.approvals.records import (
    Audience,
    LinkRecord,
    group_of,
    iso,
    link_hash,
    new_csrf_token,
    new_link_id,
)
from coach.approvals.specimens import approval_carries_over, request_specimens
from coach.brief.projection import Brief
from coach.brief.service import load_brief
from coach.brief.views import view
from coach.letters.branding import load_branding
from coach.letters.specimen import specimens_json
from coach.models import DECLINED_ERROR, ApprovalRequest
from coach.ports import ApprovalStore, Delegations, Email, Mailer, ObjectStore, WorkflowCallbacks

GRACE_SECONDS = 300  # a click a few minutes late still gets the "no longer waiting" answer from the workflow


def _emails(cell: object) -> list[str]:
    """One address per person (coach.addresses.split_addresses): each gets a link of their own."""
    return sorted(recipients_of(cell))


def recipients(request: ApprovalRequest, contacts: Mapping[str, object]) -> list[tuple[str, Audience, bool]]:
    """(email, audience, is_escalation_contact) for everyone asked by this request."""
    if request.role == "account_team":
        asked: list[tuple[str, Audience, bool]] = [
            (e, "internal", False) for e in _emails(contacts.get("account_team_emails"))
        ]
    else:
        asked = [(e, "client", False) for e in _emails(contacts.get("client_contact_emails"))]
    if request.kind == "escalation":
        known = {e for e, _, _ in asked}
        # The escalation contact works for the client, so sees client-facing counts whatever the role.
        asked += [(e, "client", True) for e in _emails(contacts.get("escalation_email")) if e not in known]
    return asked


def _intro(request: ApprovalRequest, escalation_contact: bool) -> str:
    who = "account team" if request.role == "account_team" else "benefits team"
    name = request.client.client_name
    if escalation_contact:
        return (
            f"Nobody on the {who} for {name} has answered our request. You are the escalation contact: "
            "please review and decide. If nobody decides by the deadline, no letter is sent."
        )
    if request.kind == "ask":
        return (
            f"A drug market event affects members of {name}. Please review the details and decide whether "
            "they should receive a letter."
        )
    return (
        f"We have not yet had an answer from the {who} for {name}. The link in our earlier email no longer "
        "works; please use the one below."
    )


def reuse_decision(request: ApprovalRequest, *, store: ApprovalStore, callbacks: WorkflowCallbacks) -> bool:
    """A redriven or re-run campaign asks a question these people already answered for this campaign: pass their
    delivered decision to the new wait at once, and email nobody. True when it did."""
    decision = store.get_decision(group_of(request.campaign_id, request.client.client_id, request.role))
    if decision is None or decision.delivery != "delivered" or decision.task_token == request.task_token:
        return False
    if not approval_carries_over(decision, request.template_sha256):
        return False  # approved for other letter content: these people are asked again, about this letter
    if decision.decision == "approved":
        callbacks.succeed(
            request.task_token,
            {"decision": "approved", "role": decision.role, "decided_at": iso(decision.decided_at)},
        )
    else:
        callbacks.fail(request.task_token, DECLINED_ERROR, f"{decision.role} declined")
    return True


def request_approval(
    request: ApprovalRequest,
    *,
    store: ApprovalStore,
    mailer: Mailer,
    objects: ObjectStore,
    data_bucket: str,
    sender: str,
    base_url: str,
    now: float,
    letters_bucket: str | None = None,
    delegations: Delegations | None = None,
) -> list[str]:
    """Create one link per recipient and email it; returns the recipients. A reminder or escalation supersedes
    the group's earlier pending links. With `letters_bucket`, each link's page shows the specimen letter."""
    contacts = json.loads(objects.get(data_bucket, request.client.contacts_key))
    extras = page_extras(request, objects=objects, data_bucket=data_bucket, letters_bucket=letters_bucket)
    prepare_group(request, store=store)
    sent: list[str] = []
    for asked in delegated(recipients(request, contacts), delegations, now):
        link_id, link = new_link(
            request,
            asked,
            now=now,
            asked_at=now,
            brief_json=extras.brief_json(asked.audience),
            specimens=extras.specimens,
        )
        store.put_link(link)
        mailer.send(ask_email(request, link, link_id, base_url, sender))
        sent.append(asked.recipient)
    return sent


@dataclass(frozen=True)
class PageExtras:
    """What a link's page shows beside the question: the brief (as each audience may see it) and the specimens."""

    brief: Brief | None = None
    specimens: str = ""  # coach.letters.specimen.specimens_json
    plan_name: str | None = (
        None  # the client's own plan name (clients/ branding), printed on the client's brief
    )

    def brief_json(self, audience: str) -> str | None:
        if self.brief is None:
            return None
        return json.dumps(view(self.brief, client=audience == "client") | {"plan_name": self.plan_name})


def page_extras(
    request: ApprovalRequest, *, objects: ObjectStore, data_bucket: str, letters_bucket: str | None
) -> PageExtras:
    """The brief and (with `letters_bucket`) the specimen letters every page of this request shows."""
    # the letterhead is read once: the specimens print it, and the client's brief shows its plan name
    branding = (
        load_branding(objects, data_bucket, request.campaign_id, request.client.client_id)
        if letters_bucket
        else None
    )
    shown = (
        specimens_json(
            request_specimens(request, branding=branding, objects=objects, letters_bucket=letters_bucket)
        )
        if letters_bucket and branding is not None
        else ""
    )
    brief = load_brief(objects, data_bucket, request.client.brief_key)
    if brief and branding is None:
        branding = load_branding(objects, data_bucket, request.campaign_id, request.client.client_id)
    plan_name = (
        branding.plan_name if brief and branding is not None and branding.client_id is not None else None
    )
    return PageExtras(brief, shown, plan_name)


def prepare_group(request: ApprovalRequest, *, store: ApprovalStore) -> None:
    """Before a group's new links exist: a reminder or escalation supersedes the earlier pending links, a retried
    step's links answer its new wait, and a decision that reached only an older, closed wait is set aside."""
    group = group_of(request.campaign_id, request.client.client_id, request.role)
    links = store.group_links(group)  # read once: the two passes below change disjoint links, conditionally
    if request.kind != "ask":
        for old in links:
            if old.state == "pending" and old.attempt < request.attempt:
                store.supersede(old.link_hash)
    # Step Functions gives every attempt of a task a new token: when this very step is retried (or redriven) after
    # some of its emails went out, those emails' links now answer the new wait. Their emails are not sent again
    # (the ledger keys them by attempt and recipient), so without this a click would reach a closed task.
    for old in links:
        if old.state == "pending" and old.attempt == request.attempt and old.task_token != request.task_token:
            store.retarget(old.link_hash, request.task_token)
    # A decision that reached only an older, closed wait must not block this new one.
    store.reopen(group, request.task_token)


def new_link(
    request: ApprovalRequest,
    asked: Asked,
    *,
    now: float,
    asked_at: float,
    brief_json: str | None = None,
    specimens: str = "",
) -> tuple[str, LinkRecord]:
    """(link id, its record) for one person; the wait began at `asked_at` (a digest sends later than it asks)."""
    deadline = int(asked_at) + request.deadline_seconds
    event = request.event
    link_id = new_link_id()
    return link_id, LinkRecord(
        link_hash=link_hash(link_id),
        group=group_of(request.campaign_id, request.client.client_id, request.role),
        task_token=request.task_token,
        campaign_id=request.campaign_id,
        client_id=request.client.client_id,
        client_name=request.client.client_name,
        role=request.role,
        recipient=asked.recipient,
        audience=asked.audience,
        kind=request.kind,
        escalation_contact=asked.escalation_contact,
        on_behalf_of=asked.on_behalf_of,
        election=request.client.election,
        ask_client=request.ask_client,
        attempt=request.attempt,
        event_type=event.event_type,
        drug_name=event.drug.name,
        effective_date=event.effective_date.isoformat(),
        summary=event.summary,
        recall_class=event.recall_class,
        affected=request.client.affected,
        reachable=request.client.reachable,
        prescribers=request.client.prescribers,
        held_out=request.client.held_out,
        created_at=now,
        deadline=deadline,
        expires_at=deadline + GRACE_SECONDS,
        csrf_token=new_csrf_token(),
        brief_json=brief_json,
        specimens=specimens,
    )


def ask_email(request: ApprovalRequest, link: LinkRecord, link_id: str, base_url: str, sender: str) -> Email:
    """The email asking one person about one client (a digest of one ask is this email)."""
    intro = _intro(request, link.escalation_contact) + on_behalf_note(link.on_behalf_of)
    return _request_email(request, link, f"{base_url.rstrip('/')}/a/{link_id}", sender, intro)


def _request_email(request: ApprovalRequest, link: LinkRecord, url: str, sender: str, intro: str) -> Email:
    prefix = (
        "Escalation: decision needed"
        if link.escalation_contact
        else "Decision needed"
        if link.kind == "ask"
        else "Reminder: decision needed"
    )
    text, html = request_email_bodies(link, url, intro)
    return Email(
        to=(link.recipient,),
        sender=sender,
        subject=f"{prefix}: {link.drug_name} {event_label(link.event_type, link.recall_class)} "
        f"for {link.client_name} members",
        text=text,
        html=html,
        idempotency_key=f"approval/{request.campaign_id}/{link.client_id}/{request.role}/{request.attempt}/"
        f"{link.recipient}",
        tags={
            "kind": "approval",
            "campaign": request.campaign_id,
            "client": link.client_id,
            "role": request.role,
            "attempt": str(request.attempt),
            "request": request.kind,
        },
    )
