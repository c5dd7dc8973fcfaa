"""Ask, show, decide for the clinical review (the approvals' rules, coach.approvals.deciding, on a review question):

- GET (`show_review`) never changes anything.
- POST (`decide_review`) needs the page's CSRF token; the first decision wins (conditional write); the audit record
  (the pharmacist, and every field they changed) is written before the workflow hears; a form that does not
  validate re-shows the page with what was typed and records nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from coach.addresses import recipients_of
from coach.approvals.asking import GRACE_SECONDS
from coach.approvals.deciding import (
    CLOSED_TASK_CODES,
    LINK_ID_LENGTHS,
    SHOW_ANY,
    _dead,
    _error_code,
    _from_page,
    _refuse_settled,
)
from coach.approvals.errors import (
    ApprovalProblem,
    CsrfMismatch,
    DeliveryFailed,
    LinkNotFound,
    LinkSuperseded,
    TaskNoLongerWaiting,
)
from coach.approvals.pages import Page, event_label
from coach.approvals.records import (
    AuditRecord,
    DecisionRecord,
    LinkRecord,
    group_of,
    iso,
    link_hash,
    new_csrf_token,
    new_link_id,
)
from coach.models import MarketEvent
from coach.ports import ApprovalStore, Email, Mailer, WorkflowCallbacks
from coach.review.form import ReviewFormError, read_answer
from coach.review.models import DISMISSED_ERROR, REVIEW_CLIENT, REVIEW_ROLE, ReviewBlock, ReviewRequest
from coach.review.pages import review_email_bodies, review_page, review_page_for, review_recorded_page

REVIEW_PATH = "r"  # review links are /r/<link id>; approval links /a/<link id>


def review_group(campaign_id: str) -> str:
    return group_of(campaign_id, REVIEW_CLIENT, REVIEW_ROLE)


def reviewers_for(request: ReviewRequest, reviewers: object, escalation: object) -> list[tuple[str, bool]]:
    """(email, is_escalation_contact): the clinical pharmacists, and after the last reminder the escalation list."""
    asked = [(e, False) for e in sorted(recipients_of(reviewers))]
    if request.kind == "escalation":
        known = {e for e, _ in asked}
        asked += [(e, True) for e in sorted(recipients_of(escalation)) if e not in known]
    return asked


def _intro(request: ReviewRequest, escalation_contact: bool) -> str:
    if escalation_contact:
        return (
            "Nobody on the clinical pharmacist team has reviewed this market event. You are the escalation "
            "contact: please review and decide. If nobody decides by the deadline, no campaign starts."
        )
    if request.kind == "ask":
        return "An FDA feed raised a market event. Please check it, correct it if needed, and confirm or dismiss it."
    return "We have not yet had a review of this market event. The earlier link no longer works; use the one below."


def _context(request: ReviewRequest) -> str:
    return json.dumps({"event": request.event.model_dump(mode="json"), "review": request.review.model_dump()})


def _read_context(link: LinkRecord) -> tuple[MarketEvent, ReviewBlock]:
    context = json.loads(link.context or "{}")
    return MarketEvent.model_validate(context["event"]), ReviewBlock.model_validate(context["review"])


def reuse_review(request: ReviewRequest, *, store: ApprovalStore, callbacks: WorkflowCallbacks) -> bool:
    """A redriven campaign asks again a review already answered: pass the delivered answer on, email nobody."""
    decision = store.get_decision(review_group(request.campaign_id))
    if decision is None or decision.delivery != "delivered" or decision.task_token == request.task_token:
        return False
    _tell_workflow(callbacks, decision, request.task_token)
    return True


def request_review(
    request: ReviewRequest,
    *,
    store: ApprovalStore,
    mailer: Mailer,
    sender: str,
    base_url: str,
    reviewers: object,
    escalation: object,
    now: float,
) -> list[str]:
    """One link per clinical pharmacist, emailed; returns the recipients. A reminder or escalation supersedes the
    earlier pending links."""
    group = review_group(request.campaign_id)
    for old in store.group_links(group):
        if old.state != "pending":
            continue
        if request.kind != "ask" and old.attempt < request.attempt:
            store.supersede(old.link_hash)
        elif old.attempt == request.attempt and old.task_token != request.task_token:
            store.retarget(
                old.link_hash, request.task_token
            )  # this step retried: its sent links answer the new wait
    store.reopen(group, request.task_token)
    deadline = int(now) + request.review.deadline_seconds
    event = request.event
    sent: list[str] = []
    for recipient, escalation_contact in reviewers_for(request, reviewers, escalation):
        link_id = new_link_id()
        link = LinkRecord(
            link_hash=link_hash(link_id),
            group=group,
            task_token=request.task_token,
            campaign_id=request.campaign_id,
            client_id=REVIEW_CLIENT,
            client_name="Clinical review",
            role=REVIEW_ROLE,
            recipient=recipient,
            audience="internal",
            kind=request.kind,
            escalation_contact=escalation_contact,
            attempt=request.attempt,
            event_type=event.event_type,
            drug_name=event.drug.name,
            effective_date=event.effective_date.isoformat(),
            summary=event.summary,
            recall_class=event.recall_class,
            affected=0,
            reachable=0,
            created_at=now,
            deadline=deadline,
            expires_at=deadline + GRACE_SECONDS,
            csrf_token=new_csrf_token(),
            context=_context(request),
        )
        store.put_link(link)
        url = f"{base_url.rstrip('/')}/{REVIEW_PATH}/{link_id}"
        mailer.send(_email(request, link, url, sender, _intro(request, escalation_contact)))
        sent.append(recipient)
    return sent


def _email(request: ReviewRequest, link: LinkRecord, url: str, sender: str, intro: str) -> Email:
    prefix = (
        "Escalation: clinical review needed"
        if link.escalation_contact
        else "Clinical review needed"
        if link.kind == "ask"
        else "Reminder: clinical review needed"
    )
    text, html = review_email_bodies(link, request.event, request.review, url, intro)
    return Email(
        to=(link.recipient,),
        sender=sender,
        subject=f"{prefix}: {link.drug_name} {event_label(link.event_type, link.recall_class)}",
        text=text,
        html=html,
        idempotency_key=f"review/{request.campaign_id}/{request.attempt}/{link.recipient}",
        tags={
            "kind": "clinical_review",
            "campaign": request.campaign_id,
            "client": REVIEW_CLIENT,
            "role": REVIEW_ROLE,
            "attempt": str(request.attempt),
            "request": request.kind,
        },
    )


def _find_review_link(store: ApprovalStore, link_id: str) -> LinkRecord:
    if len(link_id) not in LINK_ID_LENGTHS:
        raise LinkNotFound()
    link = store.get_link(link_hash(link_id))
    if link is None or link.role != REVIEW_ROLE:
        raise LinkNotFound()
    return link


def show_review(link_id: str, *, store: ApprovalStore, now: float) -> Page:
    """GET (and HEAD): the review page. It never changes anything."""
    try:
        link = _find_review_link(store, link_id)
        _refuse_settled(store.get_decision(link.group), SHOW_ANY)
        if (problem := _dead(link, now)) is not None:
            raise problem
    except ApprovalProblem as problem:
        return review_page_for(problem)
    event, review = _read_context(link)
    return review_page(link, event, review)


def decide_review(
    link_id: str,
    form: Mapping[str, str],
    *,
    store: ApprovalStore,
    callbacks: WorkflowCallbacks,
    now: float,
    source_ip: str = "",
    user_agent: str = "",
) -> Page:
    """POST: check everything, read the answer (re-show the form if it does not validate), record the first
    decision, audit it with the changes, then tell the workflow."""
    try:
        link = _find_review_link(store, link_id)
        existing = store.get_decision(link.group)
        _refuse_settled(existing, now)
        if existing is None and (dead := _dead(link, now)) is not None:
            if isinstance(dead, TaskNoLongerWaiting) and _from_page(form, link):
                _late_click(store, link, form, now=now, source_ip=source_ip, user_agent=user_agent)
            raise dead
        if not _from_page(form, link):
            raise CsrfMismatch()
        if existing is None:
            event, review = _read_context(link)
            try:
                answer = read_answer(event, review, form)
            except ReviewFormError as exc:
                return review_page(link, event, review, values=form, problems=exc.problems)
            decision = DecisionRecord(
                group=link.group,
                campaign_id=link.campaign_id,
                client_id=link.client_id,
                role=link.role,
                decision=answer.choice,
                decided_by=link.recipient,
                decided_at=now,
                link_hash=link.link_hash,
                task_token=link.task_token,
                attempt=link.attempt,
                result=None if answer.choice == "dismissed" else answer.event.model_dump_json(),
            )
            if not store.claim_decision(decision):  # a colleague (or a double click) was first
                _refuse_settled(store.get_decision(link.group), SHOW_ANY)
                raise LinkSuperseded()
            comment = "; ".join((*answer.changes, *([answer.comment] if answer.comment else [])))
        else:  # recorded earlier but the workflow never heard: pass on the recorded decision, not this one
            decision, comment = existing, ""
        _audit(
            store,
            decision,
            at=decision.decided_at,
            comment=comment,
            source_ip=source_ip,
            user_agent=user_agent,
        )
        _deliver(store, callbacks, decision, now=now, source_ip=source_ip, user_agent=user_agent)
    except ApprovalProblem as problem:
        return review_page_for(problem)
    store.set_link_state(decision.link_hash, decision.decision)
    return review_recorded_page(decision)


def _late_click(
    store: ApprovalStore,
    link: LinkRecord,
    form: Mapping[str, str],
    *,
    now: float,
    source_ip: str,
    user_agent: str,
) -> None:
    """An answer from the page after the review's wait closed: kept for the audit, never a decision."""
    verb = "dismiss" if form.get("decision") == "dismiss" else "confirm"
    store.append_audit(
        AuditRecord(
            campaign_id=link.campaign_id,
            client_id=link.client_id,
            at=iso(now),
            action="late_click",
            who=link.recipient,
            role=link.role,
            attempt=link.attempt,
            comment=f"attempted to {verb} after the wait closed",
            source_ip=source_ip[:64],
            user_agent=user_agent[:512],
            link_hash=link.link_hash,
        )
    )


def _audit(
    store: ApprovalStore,
    decision: DecisionRecord,
    *,
    at: float,
    comment: str,
    source_ip: str,
    user_agent: str,
    action: str | None = None,
    step: int = 0,
) -> None:
    store.append_audit(
        AuditRecord(
            campaign_id=decision.campaign_id,
            client_id=decision.client_id,
            at=iso(at),
            action=action or decision.decision,  # type: ignore[arg-type]  # a review Choice is an AuditAction
            who=decision.decided_by,
            role=decision.role,
            attempt=decision.attempt,
            comment=comment,
            source_ip=source_ip[:64],
            user_agent=user_agent[:512],
            link_hash=decision.link_hash,
            step=step,
        )
    )


def _tell_workflow(callbacks: WorkflowCallbacks, decision: DecisionRecord, task_token: str) -> None:
    if decision.decision == "dismissed":
        callbacks.fail(task_token, DISMISSED_ERROR, "a clinical pharmacist dismissed the candidate")
    else:  # the task's output is the event the campaign runs on (ResultPath $.event)
        callbacks.succeed(task_token, json.loads(decision.result or "{}"))


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
        _tell_workflow(callbacks, decision, decision.task_token)
    except Exception as exc:
        if _error_code(exc) not in CLOSED_TASK_CODES:
            raise DeliveryFailed(decision) from exc
        store.set_delivery(decision, "closed")
        _audit(
            store,
            decision,
            at=max(now, decision.decided_at),
            comment="",
            source_ip=source_ip,
            user_agent=user_agent,
            action="task_closed",
            step=1,
        )
        raise TaskNoLongerWaiting(decision) from exc
    store.set_delivery(decision, "delivered")


def review_trail(campaign_id: str, *, store: ApprovalStore) -> list[AuditRecord]:
    return store.question_audit(campaign_id, REVIEW_CLIENT, REVIEW_ROLE)


def close_review_links(campaign_id: str, *, store: ApprovalStore) -> int:
    """The review's wait has ended without a decision: its pending links now say so when clicked."""
    return sum(
        1
        for link in store.group_links(review_group(campaign_id))
        if link.state == "pending" and store.close_link(link.link_hash)
    )
