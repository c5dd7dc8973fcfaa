"""Ask, show, decide (docs/architecture.md, decision 4). The checks raise `ApprovalProblem`s; `pages.page_for` turns them into pages.

- GET (`show`) never changes anything.
- POST (`decide`) needs the link's CSRF token; the first decision of a group wins (conditional write); the audit
  record is written before the workflow hears; a closed task gives a clear page and an audit record.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from urllib.parse import parse_qs

from coach.addresses import recipients_of
from coach.approvals.delegation import Asked, delegated, on_behalf_note
from coach.approvals.errors import (
    AlreadyDecided,
    ApprovalProblem,
    CsrfMismatch,
    DeliveryFailed,
    FormTooLarge,
    InvalidForm,
    LinkExpired,
    LinkNotFound,
    LinkSuperseded,
    TaskNoLongerWaiting,
    UnreadableForm,
)
from coach.approvals.pages import (
    Page,
    confirmation_page,
    event_label,
    page_for,
    recorded_page,
    request_email_bodies,
)
from coach.approvals.reasons import read_choice
from coach.approvals.records import (
    Audience,
    AuditAction,
    AuditRecord,
    DecisionRecord,
    LinkRecord,
    group_of,
    iso,
    link_hash,
    new_csrf_token,
    new_link_id,
)
from coach.approvals.specimens import approval_carries_over, request_specimens, templates_shown
from coach.brief.projection import Brief
from coach.brief.service import load_brief
from coach.brief.views import view
from coach.letters.branding import load_branding
from coach.letters.specimen import specimens_json
from coach.models import DECLINED_ERROR, ApprovalRequest
from coach.observability import logger
from coach.ports import (
    ApprovalStore,
    AuditArchive,
    Delegations,
    Email,
    Mailer,
    ObjectStore,
    WorkflowCallbacks,
)

GRACE_SECONDS = 300  # a click a few minutes late still gets the "no longer waiting" answer from the workflow
REDELIVER_AFTER_SECONDS = 30  # a decision stuck undelivered this long is passed on again by the next POST
# `now` for _refuse_settled that treats every recorded decision as recent: it is shown, never passed on again (a
# click that lost the race to record, while the winner is still delivering, sees the winner's decision)
SHOW_ANY = float("-inf")
CLOSED_TASK_CODES = frozenset({"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"})
LINK_ID_LENGTHS = range(20, 101)


# --- asking ----------------------------------------------------------------------------------------------------
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


# --- the page --------------------------------------------------------------------------------------------------
def _find_link(store: ApprovalStore, link_id: str) -> LinkRecord:
    if len(link_id) not in LINK_ID_LENGTHS:
        raise LinkNotFound()
    link = store.get_link(link_hash(link_id))
    if (
        link is None or link.role == "clinical_reviewer"
    ):  # a review link answers on its own page (coach.review)
        raise LinkNotFound()
    return link


def _refuse_settled(decision: DecisionRecord | None, now: float) -> None:
    """A group that has decided shows that decision (a double click, a teammate's later click)."""
    if decision is None:
        return
    if decision.delivery == "closed":
        raise TaskNoLongerWaiting(decision)
    if decision.delivery == "delivered" or now - decision.decided_at < REDELIVER_AFTER_SECONDS:
        raise AlreadyDecided(decision)


def _dead(link: LinkRecord, now: float) -> ApprovalProblem | None:
    """Why nobody may answer this link any more (None while its wait is open)."""
    if link.state == "superseded":
        return LinkSuperseded()
    if link.state == "closed":
        return TaskNoLongerWaiting()
    if now > link.expires_at:
        return LinkExpired()
    return None


def _refuse_dead(link: LinkRecord, now: float) -> None:
    if (problem := _dead(link, now)) is not None:
        raise problem


def show(link_id: str, *, store: ApprovalStore, now: float) -> Page:
    """GET (and HEAD): the confirmation page. It never changes anything."""
    try:
        link = _find_link(store, link_id)
    except ApprovalProblem as problem:
        return page_for(problem)
    return show_link(link, store=store, now=now, link_id=link_id)


def show_link(link: LinkRecord, *, store: ApprovalStore, now: float, link_id: str = "") -> Page:
    """show() for a link already found (its own URL, or a row of a digest: no link id, so no specimen PDF link)."""
    try:
        decision = store.get_decision(link.group)
        if decision is not None:
            _refuse_settled(decision, SHOW_ANY)  # any recorded decision is shown, delivered or not
        _refuse_dead(link, now)
    except ApprovalProblem as problem:
        return page_for(problem)
    return confirmation_page(link, link_id)


MAX_BODY_BYTES = 8 * 1024  # our form (choice, comment of MAX_COMMENT characters, CSRF token) fits well inside


def read_posted_form(raw: str, decoded: Callable[[], str | None]) -> dict[str, str]:
    """The fields of a POST to a link: `raw` as API Gateway passed it (base64 or not), `decoded` its text. A body
    larger than our form can produce is refused before it is decoded (FormTooLarge); one that cannot be read as
    our form's urlencoded text is UnreadableForm."""
    if len(raw) > 2 * MAX_BODY_BYTES:
        raise FormTooLarge
    try:
        body = decoded() or ""
        if len(body.encode()) > MAX_BODY_BYTES:
            raise FormTooLarge
        fields = parse_qs(body, keep_blank_values=True, max_num_fields=10)
    except ValueError as error:  # not base64 or not UTF-8, or more fields than our form has
        raise UnreadableForm from error
    return {name: values[0] for name, values in fields.items()}


def decide(
    link_id: str,
    form: Mapping[str, str],
    *,
    store: ApprovalStore,
    callbacks: WorkflowCallbacks,
    now: float,
    source_ip: str = "",
    user_agent: str = "",
) -> Page:
    """POST: check everything, record the group's first decision, audit it, then tell the workflow."""
    try:
        link = _find_link(store, link_id)
    except ApprovalProblem as problem:
        return page_for(problem)
    try:
        decision = decide_link(
            link, form, store=store, callbacks=callbacks, now=now, source_ip=source_ip, user_agent=user_agent
        )
        page = recorded_page(decision, link)
    except ApprovalProblem as problem:
        page = page_for(problem)
    return replace(page, question=(link.campaign_id, link.client_id, link.role))


def decide_link(
    link: LinkRecord,
    form: Mapping[str, str],
    *,
    store: ApprovalStore,
    callbacks: WorkflowCallbacks,
    now: float,
    source_ip: str = "",
    user_agent: str = "",
) -> DecisionRecord:
    """One link's answer (from its own page or a row of a digest): the decision passed on, or an ApprovalProblem."""
    existing = store.get_decision(link.group)
    _refuse_settled(existing, now)
    dead = _dead(link, now) if existing is None else None
    if isinstance(dead, TaskNoLongerWaiting):  # its wait closed: an answer is kept for the audit, as late
        _refuse_late(store, link, form, dead, now=now, source_ip=source_ip, user_agent=user_agent)
    if dead is not None:
        raise dead
    if not _from_page(form, link):
        raise CsrfMismatch()
    choice, comment, reason = read_choice(form)
    if existing is None:
        decision = DecisionRecord(
            group=link.group,
            campaign_id=link.campaign_id,
            client_id=link.client_id,
            role=link.role,
            decision=choice,
            decided_by=link.recipient,
            decided_at=now,
            link_hash=link.link_hash,
            task_token=link.task_token,
            attempt=link.attempt,
            reason=reason,
            on_behalf_of=link.on_behalf_of,
            templates_shown=templates_shown(link),
        )
        if not store.claim_decision(decision):  # a teammate (or a double click) was first
            _refuse_settled(store.get_decision(link.group), SHOW_ANY)
            raise LinkSuperseded()  # the winner was withdrawn by a newer request meanwhile
    else:  # recorded earlier but the workflow never heard: pass on the recorded decision, not this one
        decision = existing
    _audit(
        store,
        decision,
        decision.decision,
        at=decision.decided_at,
        step=0,
        comment=comment if existing is None else "",
        source_ip=source_ip,
        user_agent=user_agent,
    )
    _deliver(store, callbacks, decision, now=now, source_ip=source_ip, user_agent=user_agent)
    store.set_link_state(decision.link_hash, decision.decision)
    return decision


def _from_page(form: Mapping[str, str], link: LinkRecord) -> bool:
    return hmac.compare_digest(form.get("csrf_token", "").encode(), link.csrf_token.encode())


def _refuse_late(
    store: ApprovalStore,
    link: LinkRecord,
    form: Mapping[str, str],
    dead: ApprovalProblem,
    *,
    now: float,
    source_ip: str,
    user_agent: str,
) -> None:
    """Refuse an answer to a link nobody waits on. A real answer (from the page, a valid choice) is kept in the audit
    as a late click, which is never a decision: no decision record, no callback."""
    try:
        if not _from_page(form, link):
            raise dead
        choice, comment, _ = read_choice(form)
    except InvalidForm:
        raise dead from None
    verb = "approve" if choice == "approved" else "decline"
    store.append_audit(
        AuditRecord(
            campaign_id=link.campaign_id,
            client_id=link.client_id,
            at=iso(now),
            action="late_click",
            who=link.recipient,
            role=link.role,
            attempt=link.attempt,
            comment=f"attempted to {verb} after the wait closed" + (f": {comment}" if comment else ""),
            source_ip=source_ip[:64],
            user_agent=user_agent[:512],
            link_hash=link.link_hash,
        )
    )
    raise dead


def close_waits(campaign_id: str, client_id: str, *, store: ApprovalStore) -> int:
    """A client's branch has ended (its outcome is recorded): every link still pending for it is closed, so a later
    click is told the request no longer waits, instead of being thanked for a decision that cannot count. Returns
    how many links it closed."""
    closed = 0
    groups = [group_of(campaign_id, client_id, role) for role in ("account_team", "client")]
    for links in store.groups_links(groups).values():  # both roles' links read together
        for link in links:
            if link.state == "pending" and store.close_link(link.link_hash):
                closed += 1
    return closed


def _audit(
    store: ApprovalStore,
    decision: DecisionRecord,
    action: AuditAction,
    *,
    at: float,
    step: int,
    comment: str,
    source_ip: str,
    user_agent: str,
) -> None:
    """Write-once: a retried delivery finds the decision's record already there and writes nothing new."""
    store.append_audit(
        AuditRecord(
            campaign_id=decision.campaign_id,
            client_id=decision.client_id,
            at=iso(at),
            action=action,
            who=decision.decided_by,
            role=decision.role,
            attempt=decision.attempt,
            comment=comment,
            source_ip=source_ip[:64],
            user_agent=user_agent[:512],
            link_hash=decision.link_hash,
            step=step,
            templates_shown=decision.templates_shown,
            reason=decision.reason if action == "declined" else "",
            on_behalf_of=decision.on_behalf_of,
        )
    )


def _error_code(exc: Exception) -> str | None:
    """The AWS error code of a botocore ClientError (duck-typed: the domain does not import botocore)."""
    response = getattr(exc, "response", None)
    return response.get("Error", {}).get("Code") if isinstance(response, dict) else None


def _deliver(
    store: ApprovalStore,
    callbacks: WorkflowCallbacks,
    decision: DecisionRecord,
    *,
    now: float,
    source_ip: str,
    user_agent: str,
) -> None:
    try:
        if decision.decision == "approved":
            callbacks.succeed(
                decision.task_token,
                {"decision": "approved", "role": decision.role, "decided_at": iso(decision.decided_at)},
            )
        else:
            callbacks.fail(decision.task_token, DECLINED_ERROR, f"{decision.role} declined")
    except Exception as exc:
        if _error_code(exc) not in CLOSED_TASK_CODES:
            raise DeliveryFailed(decision) from exc
        store.set_delivery(decision, "closed")
        _audit(
            store,
            decision,
            "task_closed",
            at=max(now, decision.decided_at),
            step=1,
            comment="",
            source_ip=source_ip,
            user_agent=user_agent,
        )
        raise TaskNoLongerWaiting(decision) from exc
    store.set_delivery(decision, "delivered")


def audit_trail(campaign_id: str, *, store: ApprovalStore) -> list[AuditRecord]:
    """Every decision (and every too-late one) of a campaign, in time order."""
    return store.audit(campaign_id)


def question_trail(link_id: str, *, store: ApprovalStore) -> list[AuditRecord]:
    """The audit records of the question a link asked (its campaign, client and role), in time order."""
    return _question_trail(link_hash(link_id), store=store)


def _question_trail(
    hashed: str, *, store: ApprovalStore, question: tuple[str, str, str] | None = None
) -> list[AuditRecord]:
    if question is None:  # (campaign, client, role) not known: the link says
        link = store.get_link(hashed)
        if link is None:
            return []
        question = (link.campaign_id, link.client_id, link.role)
    return store.question_audit(*question)


@dataclass(frozen=True)
class FollowUp:
    decided: list[str]  # the decisions this POST recorded (approved, declined): the approvals-per-day metrics
    archive_failed: bool = False


def after_decision(
    link_id: str,
    *,
    store: ApprovalStore,
    archive: AuditArchive | None,
    now: float,
    answered: bool,
    question: tuple[str, str, str] | None = None,
) -> FollowUp:
    """After a POST: count the decision it recorded, and copy the question's audit records to the write-once
    archive. DynamoDB already holds them (written before the workflow heard), so a failure here loses nothing: it
    is logged (no message: it may echo input), the page still shows the decision, and the summary archives the
    whole trail again at the end of the campaign."""
    return after_link_decision(
        link_hash(link_id), store=store, archive=archive, now=now, answered=answered, question=question
    )


def after_link_decision(
    hashed: str,
    *,
    store: ApprovalStore,
    archive: AuditArchive | None,
    now: float,
    answered: bool,
    question: tuple[str, str, str] | None = None,
) -> FollowUp:
    """after_decision for the link with this hash (a digest's rows); `question` (the POST's Page.question) spares
    reading the link again."""
    if not (answered or archive):
        return FollowUp([])
    decided: list[str] = []
    try:
        trail = _question_trail(hashed, store=store, question=question)
        # a decision recorded by this POST carries its time (a second click records none)
        decided = [r.action for r in trail if r.at == iso(now) and r.action in ("approved", "declined")]
        if archive:
            archive.archive_records(trail)
    except Exception as error:
        logger.error(
            "audit follow-up failed", extra={"error": type(error).__name__, "archive": bool(archive)}
        )
        return FollowUp(decided, archive_failed=bool(archive))
    return FollowUp(decided)


def archive_campaign_trail(campaign_id: str, *, store: ApprovalStore, archive: AuditArchive) -> int:
    """The campaign's complete decision trail as one immutable snapshot; the number of records. A failure is logged
    (ids only) and raised, so the execution fails at this stage, the operator is alerted, and a redrive archives a
    fresh snapshot (never an overwrite)."""
    try:
        records = audit_trail(campaign_id, store=store)
        archive.archive_campaign(records, campaign_id)
    except Exception as error:
        logger.error(
            "audit archive failed", extra={"campaign_id": campaign_id, "error": type(error).__name__}
        )
        raise
    logger.info("decision trail archived", extra={"campaign_id": campaign_id, "records": len(records)})
    return len(records)
