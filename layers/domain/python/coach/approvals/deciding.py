"""Show and decide (docs/architecture.md, decision 4). The checks raise `ApprovalProblem`s; `pages.page_for` turns
them into pages.

- GET (`show`) never changes anything.
- POST (`decide`) needs the link's CSRF token; the first decision of a group wins (conditional write); the audit
  record is written before the workflow hears; a closed task gives a clear page and an audit record.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from dataclasses import replace
from urllib.parse import parse_qs

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
from coach.approvals.pages import Page, confirmation_page, page_for, recorded_page
from coach.approvals.reasons import read_choice
from coach.approvals.records import AuditAction, AuditRecord, DecisionRecord, LinkRecord, iso, link_hash
from coach.approvals.specimens import templates_shown
from coach.models import DECLINED_ERROR
from coach.ports import ApprovalStore, WorkflowCallbacks

REDELIVER_AFTER_SECONDS = 30  # a decision stuck undelivered this long is passed on again by the next POST
# `now` for _refuse_settled that treats every recorded decision as recent: it is shown, never passed on again (a
# click that lost the race to record, while the winner is still delivering, sees the winner's decision)
SHOW_ANY = float("-inf")
CLOSED_TASK_CODES = frozenset({"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"})
LINK_ID_LENGTHS = range(20, 101)


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
    return show_link(link, store=store, now=now, pdf_base=link_id)


def show_link(link: LinkRecord, *, store: ApprovalStore, now: float, pdf_base: str = "") -> Page:
    """show() for a link already found (its own URL, or a row of a digest); `pdf_base` as confirmation_page's."""
    try:
        decision = store.get_decision(link.group)
        if decision is not None:
            _refuse_settled(decision, SHOW_ANY)  # any recorded decision is shown, delivered or not
        _refuse_dead(link, now)
    except ApprovalProblem as problem:
        return page_for(problem)
    return confirmation_page(link, pdf_base)


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
