"""The digest page: GET/HEAD show every client and decide nothing; POST (with the digest's CSRF token) decides the
listed clients, each through its own link (coach.approvals.deciding.decide_link): its own first-decision-wins record,
audit record and callback. `/d/<id>/<n>` is client n alone, its usual confirmation page."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from coach.approvals.deciding import LINK_ID_LENGTHS, _dead, decide_link, show_link
from coach.approvals.digest_pages import MAX_ROW_COMMENT, Outcome, Row, digest_done_page, digest_page
from coach.approvals.digest_records import MAX_DIGEST_ROWS, DigestRecord
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
from coach.approvals.pages import Page, page_for, recorded_page, when
from coach.approvals.reasons import read_choice, reason_label
from coach.approvals.records import LinkRecord, link_hash
from coach.approvals.specimens import SpecimenPdf, link_specimen_pdf, specimen_lang
from coach.ports import ApprovalStore, DigestStore, ObjectStore, WorkflowCallbacks

MAX_DIGEST_BODY = 48 * 1024  # MAX_DIGEST_ROWS comments of MAX_ROW_COMMENT characters, urlencoded, fit


@dataclass
class DigestAnswer:
    page: Page
    decided: list[str] = field(default_factory=list)  # link hashes this POST recorded a decision for


def _find(digests: DigestStore, digest_id: str) -> DigestRecord:
    if len(digest_id) not in LINK_ID_LENGTHS:
        raise LinkNotFound()
    digest = digests.get_digest(link_hash(digest_id))
    if digest is None:
        raise LinkNotFound()
    return digest


def _links(store: ApprovalStore, digest: DigestRecord) -> list[LinkRecord]:
    return [link for h in digest.link_hashes if (link := store.get_link(h)) is not None]


def _settled(store: ApprovalStore, link: LinkRecord, now: float) -> str | None:
    decision = store.get_decision(link.group)
    if decision is not None:
        verb = "Approved" if decision.decision == "approved" else "Declined"
        why = f" ({reason_label(decision.reason)})" if decision.reason else ""
        return f"{verb}{why} by {decision.decided_by} at {when(decision.decided_at)}."
    problem = _dead(link, now)
    return _line(problem) if problem is not None else None


def _line(problem: ApprovalProblem) -> str:
    if isinstance(problem, AlreadyDecided):
        d = problem.decision
        return f"already {d.decision} by {d.decided_by} at {when(d.decided_at)}; only the first answer counts"
    if isinstance(problem, TaskNoLongerWaiting):
        return "the campaign no longer waits for this decision; your answer changed nothing"
    if isinstance(problem, LinkSuperseded):
        return "a newer email replaced this request; please use its link"
    if isinstance(problem, LinkExpired):
        return "the time to decide has passed; nothing was recorded"
    if isinstance(problem, DeliveryFailed):
        return f"{problem.decision.decision} and recorded, not yet passed on: please submit again in a minute"
    if isinstance(problem, InvalidForm):
        return problem.reason
    return "not recorded"


def show_digest(digest_id: str, *, store: ApprovalStore, digests: DigestStore, now: float) -> Page:
    """GET and HEAD: never change anything."""
    try:
        digest = _find(digests, digest_id)
        if now > digest.expires_at:
            raise LinkExpired()
    except ApprovalProblem as problem:
        return page_for(problem)
    rows = [Row(i, link, None, _settled(store, link, now)) for i, link in enumerate(_links(store, digest))]
    return digest_page(rows, digest.csrf_token, f"/d/{digest_id}")


def _row_link(store: ApprovalStore, digests: DigestStore, digest_id: str, index: str) -> LinkRecord:
    digest = _find(digests, digest_id)
    if not index.isdigit() or int(index) >= len(digest.link_hashes):
        raise LinkNotFound()
    link = store.get_link(digest.link_hashes[int(index)])
    if link is None:
        raise LinkNotFound()
    return link


def show_row(digest_id: str, index: str, *, store: ApprovalStore, digests: DigestStore, now: float) -> Page:
    """One client of a digest on its own: its usual confirmation page (which posts back here)."""
    try:
        link = _row_link(store, digests, digest_id, index)
    except ApprovalProblem as problem:
        return page_for(problem)
    # its specimen PDF links are relative to /d/<digest_id>/<index>: <index>/specimen/<lang>.pdf
    return show_link(link, store=store, now=now, pdf_base=index)


def row_specimen_pdf(
    digest_id: str,
    index: str,
    file: str,
    *,
    store: ApprovalStore,
    digests: DigestStore,
    objects: ObjectStore,
    letters_bucket: str,
    now: float,
) -> SpecimenPdf:
    """GET of the specimen PDF a row's page links to (`<lang>.pdf`): the row's own checks, then its link's
    (coach.approvals.specimens.link_specimen_pdf); an ApprovalProblem for anything unknown. Decides nothing."""
    lang = specimen_lang(file)
    link = _row_link(store, digests, digest_id, index)
    return link_specimen_pdf(link, lang, objects=objects, letters_bucket=letters_bucket, now=now)


def decide_row(
    digest_id: str,
    index: str,
    form: Mapping[str, str],
    *,
    store: ApprovalStore,
    digests: DigestStore,
    callbacks: WorkflowCallbacks,
    now: float,
    source_ip: str = "",
    user_agent: str = "",
) -> DigestAnswer:
    try:
        link = _row_link(store, digests, digest_id, index)
        decision = decide_link(
            link, form, store=store, callbacks=callbacks, now=now, source_ip=source_ip, user_agent=user_agent
        )
    except ApprovalProblem as problem:
        return DigestAnswer(page_for(problem))
    return DigestAnswer(recorded_page(decision, link), [link.link_hash])


def read_digest_form(raw: str, decoded: Callable[[], str | None]) -> dict[str, str]:
    """The fields of a POST to a digest (larger than one client's form: a choice, reason and comment per client)."""
    if len(raw) > 2 * MAX_DIGEST_BODY:
        raise FormTooLarge
    try:
        body = decoded() or ""
        if len(body.encode()) > MAX_DIGEST_BODY:
            raise FormTooLarge
        fields = parse_qs(body, keep_blank_values=True, max_num_fields=2 + 3 * MAX_DIGEST_ROWS)
    except ValueError as error:
        raise UnreadableForm from error
    return {name: values[0] for name, values in fields.items()}


def _choices(form: Mapping[str, str], links: list[LinkRecord]) -> list[tuple[LinkRecord, dict[str, str]]]:
    """Each client's answer as its own page's form would carry it; every row is checked before any is decided."""
    chosen = []
    for i, link in enumerate(links):
        prefix = f"c{i}-"
        if form.get(prefix + "decision", "later") == "later":
            continue
        try:
            choice, comment, reason = read_choice(form, prefix=prefix)
        except InvalidForm as problem:
            raise InvalidForm(f"{link.client_name} ({link.client_id}): {problem.reason}") from None
        if len(comment) > MAX_ROW_COMMENT:
            raise InvalidForm(f"{link.client_name}: the comment is longer than {MAX_ROW_COMMENT} characters.")
        verb = "approve" if choice == "approved" else "decline"
        chosen.append(
            (link, {"csrf_token": link.csrf_token, "decision": verb, "reason": reason, "comment": comment})
        )
    return chosen


def decide_digest(
    digest_id: str,
    form: Mapping[str, str],
    *,
    store: ApprovalStore,
    digests: DigestStore,
    callbacks: WorkflowCallbacks,
    now: float,
    source_ip: str = "",
    user_agent: str = "",
) -> DigestAnswer:
    """POST: the listed clients' decisions, each recorded, audited and passed on by its own link."""
    try:
        digest = _find(digests, digest_id)
        if now > digest.expires_at:
            raise LinkExpired()
        if not hmac.compare_digest(form.get("csrf_token", "").encode(), digest.csrf_token.encode()):
            raise CsrfMismatch()
        chosen = _choices(form, _links(store, digest))
        if not chosen:
            raise InvalidForm("Nothing was chosen: every client was left for later.")
    except ApprovalProblem as problem:
        return DigestAnswer(page_for(problem))
    outcomes, decided = [], []
    for link, fields in chosen:
        name = f"{link.client_name} ({link.client_id})"
        try:
            decision = decide_link(
                link,
                fields,
                store=store,
                callbacks=callbacks,
                now=now,
                source_ip=source_ip,
                user_agent=user_agent,
            )
        except ApprovalProblem as problem:
            outcomes.append(Outcome(name, _line(problem), ok=False))
            continue
        decided.append(link.link_hash)
        why = f" ({reason_label(decision.reason)})" if decision.reason else ""
        outcomes.append(
            Outcome(name, f"{decision.decision}{why}, recorded at {when(decision.decided_at)}", ok=True)
        )
    return DigestAnswer(digest_done_page(outcomes), decided)
