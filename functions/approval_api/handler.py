"""The approval pages behind API Gateway: GET/HEAD show and never decide; POST decides (CSRF-checked).

The deployed endpoint is a REST API (payload v1); HTTP API (payload v2) events are routed the same way."""

import time
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.router import Router
from aws_lambda_powertools.utilities.typing import LambdaContext
from coach.approvals.deciding import decide, read_posted_form, show
from coach.approvals.digest_service import (
    DigestAnswer,
    decide_digest,
    decide_row,
    read_digest_form,
    row_specimen_pdf,
    show_digest,
    show_row,
)
from coach.approvals.errors import ApprovalProblem
from coach.approvals.pages import SECURITY_HEADERS, Page, error_page, not_found_page, page_for, result_page
from coach.approvals.specimens import SpecimenPdf, specimen_lang, specimen_pdf
from coach.approvals.trail import after_decision, after_link_decision
from coach.brief.pdf import client_brief_pdf
from coach.observability import logger, metrics, tracer
from coach.review.form import read_review_form
from coach.review.pages import review_page_for
from coach.review.service import decide_review, show_review
from coach.runtime import approval_store, audit_archive, callbacks, digest_store, objects
from coach.settings import settings

Resolver = TypeVar("Resolver", APIGatewayHttpResolver, APIGatewayRestResolver)
pages = Router()


def _respond(page: Page, with_body: bool = True) -> Response:
    headers = dict(page.headers)
    return Response(
        status_code=page.status,
        content_type=headers.pop("Content-Type"),
        body=page.html if with_body else "",
        headers=headers,
    )


def _caller() -> tuple[str, str]:
    """(source IP, user agent): requestContext.http on an HTTP API, requestContext.identity on a REST API."""
    event: Any = pages.current_event  # the v1 or v2 event class of whichever resolver is serving
    context = event.request_context
    who = getattr(context, "http", None) or context.identity
    return who.source_ip or "", who.user_agent or ""


@pages.get("/a/<link_id>")
def confirmation_page(link_id: str) -> Response:
    return _respond(show(link_id, store=approval_store(), now=time.time()))


@pages.head("/a/<link_id>")
def confirmation_headers(link_id: str) -> Response:
    return _respond(show(link_id, store=approval_store(), now=time.time()), with_body=False)


@pages.get("/a/<link_id>/brief.pdf")
def client_brief(link_id: str) -> Response:
    """A client's one-page brief (coach.brief.pdf), linked from their request email."""
    pdf = client_brief_pdf(link_id, store=approval_store())
    if pdf is None:
        return _respond(not_found_page())
    return _pdf(pdf, "pharmacists-brief.pdf")


@pages.get("/a/<link_id>/specimen/<file>")
def specimen(link_id: str, file: str) -> Response:
    """The specimen letter PDF a confirmation page links to (no member data); the link's own checks apply."""
    return _specimen(
        lambda: specimen_pdf(
            link_id,
            specimen_lang(file),
            store=approval_store(),
            objects=objects(),
            letters_bucket=settings().letters_bucket,
            now=time.time(),
        )
    )


@pages.post("/a/<link_id>")
def decision(link_id: str) -> Response:
    return _posted(link_id, read_posted_form, decide, page_for, metric="ApprovalPost", count_decisions=True)


# --- digests: one page for several clients (coach.approvals.digest_service) --------------------------------------
@pages.get("/d/<digest_id>")
def digest_page(digest_id: str) -> Response:
    return _respond(show_digest(digest_id, store=approval_store(), digests=digest_store(), now=time.time()))


@pages.head("/d/<digest_id>")
def digest_headers(digest_id: str) -> Response:
    page = show_digest(digest_id, store=approval_store(), digests=digest_store(), now=time.time())
    return _respond(page, with_body=False)


@pages.get("/d/<digest_id>/<index>")
def digest_row_page(digest_id: str, index: str) -> Response:
    return _respond(
        show_row(digest_id, index, store=approval_store(), digests=digest_store(), now=time.time())
    )


@pages.head("/d/<digest_id>/<index>")
def digest_row_headers(digest_id: str, index: str) -> Response:
    page = show_row(digest_id, index, store=approval_store(), digests=digest_store(), now=time.time())
    return _respond(page, with_body=False)


@pages.get("/d/<digest_id>/<index>/specimen/<file>")
def digest_row_specimen(digest_id: str, index: str, file: str) -> Response:
    """The specimen letter PDF a digest row's page links to (no member data); the row's own checks apply."""
    return _specimen(
        lambda: row_specimen_pdf(
            digest_id,
            index,
            file,
            store=approval_store(),
            digests=digest_store(),
            objects=objects(),
            letters_bucket=settings().letters_bucket,
            now=time.time(),
        )
    )


def _follow_up(answer: DigestAnswer, now: float) -> Response:
    metrics.add_metric(name=f"ApprovalPost{answer.page.status}", unit="Count", value=1)
    for hashed in answer.decided:
        follow_up = after_link_decision(
            hashed, store=approval_store(), archive=audit_archive(), now=now, answered=True
        )
        for action in follow_up.decided:
            metrics.add_metric(name=f"Decisions{action.capitalize()}", unit="Count", value=1)
        if follow_up.archive_failed:
            metrics.add_metric(name="AuditArchiveFailed", unit="Count", value=1)
    return _respond(answer.page)


@pages.post("/d/<digest_id>")
def digest_decisions(digest_id: str) -> Response:
    event = pages.current_event
    try:
        form = read_digest_form(event.body or "", lambda: event.decoded_body)
    except ApprovalProblem as problem:
        return _respond(page_for(problem))
    source_ip, user_agent = _caller()
    now = time.time()
    answer = decide_digest(
        digest_id,
        form,
        store=approval_store(),
        digests=digest_store(),
        callbacks=callbacks(),
        now=now,
        source_ip=source_ip,
        user_agent=user_agent,
    )
    return _follow_up(answer, now)


@pages.post("/d/<digest_id>/<index>")
def digest_row_decision(digest_id: str, index: str) -> Response:
    event = pages.current_event
    try:
        form = read_posted_form(event.body or "", lambda: event.decoded_body)
    except ApprovalProblem as problem:
        return _respond(page_for(problem))
    source_ip, user_agent = _caller()
    now = time.time()
    answer = decide_row(
        digest_id,
        index,
        form,
        store=approval_store(),
        digests=digest_store(),
        callbacks=callbacks(),
        now=now,
        source_ip=source_ip,
        user_agent=user_agent,
    )
    return _follow_up(answer, now)


@pages.route("/d/<digest_id>", method=["PUT", "PATCH", "DELETE", "OPTIONS"])
@pages.route("/d/<digest_id>/<index>", method=["PUT", "PATCH", "DELETE", "OPTIONS"])
@pages.route("/a/<link_id>", method=["PUT", "PATCH", "DELETE", "OPTIONS"])
def other_methods(**_: str) -> Response:
    response = _respond(result_page(405, "Not allowed", "Open the link from your email."))
    response.headers["Allow"] = "GET, HEAD, POST"
    return response


# --- the clinical review pages (/r/<link_id>, coach.review): the same rules as the approval pages --------------
@pages.get("/r/<link_id>")
def review_page(link_id: str) -> Response:
    return _respond(show_review(link_id, store=approval_store(), now=time.time()))


@pages.head("/r/<link_id>")
def review_headers(link_id: str) -> Response:
    return _respond(show_review(link_id, store=approval_store(), now=time.time()), with_body=False)


@pages.post("/r/<link_id>")
def review_decision(link_id: str) -> Response:
    return _posted(link_id, read_review_form, decide_review, review_page_for, metric="ReviewPost")


@pages.route("/r/<link_id>", method=["PUT", "PATCH", "DELETE", "OPTIONS"])
def other_review_methods(link_id: str) -> Response:
    return other_methods(link_id=link_id)


def _specimen(render: Callable[[], SpecimenPdf]) -> Response:
    """A specimen PDF route: the PDF, or the page of the problem its link's checks found."""
    try:
        pdf = render()
    except ApprovalProblem as problem:
        return _respond(page_for(problem))
    return _pdf(pdf.body, pdf.filename)


def _pdf(body: bytes, filename: str) -> Response:
    """A PDF beside a page (a brief, a specimen letter): the pages' security headers, shown inline."""
    headers = {k: v for k, v in SECURITY_HEADERS.items() if k != "Content-Type"}
    headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return Response(status_code=200, content_type="application/pdf", body=body, headers=headers)


def _posted(
    link_id: str,
    read_form: Callable[[str, Callable[[], str | None]], dict[str, str]],
    decide_link: Callable[..., Page],
    problem_page: Callable[[ApprovalProblem], Page],
    *,
    metric: str,
    count_decisions: bool = False,
) -> Response:
    """A POST to a link's page (an approval or a clinical review): read the form, decide, then the follow-up (the
    audit archived once a question is settled)."""
    event = pages.current_event
    try:
        form = read_form(event.body or "", lambda: event.decoded_body)
    except ApprovalProblem as problem:
        return _respond(problem_page(problem))
    source_ip, user_agent = _caller()
    now = time.time()
    page = decide_link(
        link_id,
        form,
        store=approval_store(),
        callbacks=callbacks(),
        now=now,
        source_ip=source_ip,
        user_agent=user_agent,
    )
    metrics.add_metric(name=f"{metric}{page.status}", unit="Count", value=1)
    follow_up = after_decision(
        link_id,
        store=approval_store(),
        archive=audit_archive(),
        now=now,
        answered=page.status == 200,
        question=page.question,  # known when the link was found: not read again
    )
    if count_decisions:
        for action in follow_up.decided:
            metrics.add_metric(name=f"Decisions{action.capitalize()}", unit="Count", value=1)
    if follow_up.archive_failed:
        metrics.add_metric(name="AuditArchiveFailed", unit="Count", value=1)
    return _respond(page)


def _resolver(resolver: Resolver) -> Resolver:
    resolver.include_router(pages)

    @resolver.not_found
    def unknown_path(_: NotFoundError) -> Response:
        return _respond(not_found_page())

    @resolver.exception_handler(Exception)
    def unexpected(error: Exception) -> Response:
        logger.error(
            "approval page failed", extra={"error": type(error).__name__}
        )  # no message: may echo input
        return _respond(error_page())

    return resolver


# debug=False: debug mode prints the event, and the path holds the link id
http_api = _resolver(APIGatewayHttpResolver(debug=False))
rest_api = _resolver(APIGatewayRestResolver(debug=False))


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    api = http_api if event.get("version") == "2.0" else rest_api
    return api.resolve(event, context)
