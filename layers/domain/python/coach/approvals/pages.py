"""What people see: the confirmation page, the result pages and the request email. Every template is autoescaped
(the email's plain-text part is not HTML). `page_for` is the ONE place a refusal becomes a page and a status."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache, singledispatch

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

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
from coach.approvals.next_step import next_step
from coach.approvals.reasons import DECLINE_REASONS, MAX_COMMENT, reason_label
from coach.approvals.records import DecisionRecord, LinkRecord
from coach.audience.privacy import client_facing_count, exact_count
from coach.cost import format_usd, letters_cost
from coach.letters.specimen import specimens_of

SECURITY_HEADERS: dict[str, str] = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # HTTPS only, for two years, on every subdomain (browsers ignore it over the local runtime's plain HTTP)
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'",
}
EVENT_LABELS = {
    "otc_switch": "moves to over-the-counter sale",
    "patent_expiry": "patent expiry (a lower-cost generic is coming)",
    "generic_launch": "first generic launches",
    "new_drug": "new drug on the market",
    "recall": "recall",
    "formulary_change": "formulary change",
}
ROLE_LABELS = {"account_team": "the account team", "client": "the benefits contact"}
OK, WARN, STOP = "#116329", "#7d4e00", "#a40e26"


@dataclass(frozen=True)
class Page:
    status: int
    html: str
    headers: dict[str, str] = field(default_factory=lambda: dict(SECURITY_HEADERS))
    # (campaign, client, role) of the link a POST answered: its follow-up reads that question's trail without
    # reading the link again (None: not known, it is read)
    question: tuple[str, str, str] | None = None


@cache
def _env() -> Environment:
    # Every *.html.j2 is autoescaped; only the plain-text email part (*.txt.j2) is not HTML.
    return Environment(
        loader=PackageLoader("coach.approvals", "templates"),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        keep_trailing_newline=True,
    )


def when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%A %-d %B %Y, %H:%M UTC")


def event_label(event_type: str, recall_class: str | None = None) -> str:
    label = EVENT_LABELS.get(event_type, event_type.replace("_", " "))
    return f"{label} (class {recall_class})" if recall_class else label


def request_facts(link: LinkRecord) -> dict[str, object]:
    """What a page or an email says about a request; counts as this recipient may see them."""
    counted = exact_count if link.audience == "internal" else client_facing_count
    return {
        "role": link.role,
        "role_label": "the escalation contact" if link.escalation_contact else ROLE_LABELS[link.role],
        "kind": link.kind,
        "escalation_contact": link.escalation_contact,
        "client_name": link.client_name,
        "client_id": link.client_id,
        "drug_name": link.drug_name,
        "event_label": event_label(link.event_type, link.recall_class),
        "effective_date": f"{date.fromisoformat(link.effective_date):%B %-d, %Y}",
        "summary": link.summary,
        "affected": counted(link.affected),
        "reachable": counted(link.reachable),
        "held_out": counted(link.held_out)
        if link.held_out
        else None,  # the holdout, when the campaign has one
        "deadline": when(link.deadline),
        # internal audiences (account teams) see what the client's letters will cost on AWS; clients do not
        "estimated_cost": format_usd(letters_cost(link.reachable)) if link.audience == "internal" else None,
        # the pharmacist's brief as this recipient may see it (coach.brief.views), when the playbook makes one
        "brief": json.loads(link.brief_json) if link.brief_json else None,
        # account teams hear how many prescribers an approval would notify (issue 17)
        "prescribers": exact_count(link.prescribers)
        if link.audience == "internal" and link.prescribers is not None
        else None,
    }


def confirmation_page(link: LinkRecord, pdf_base: str = "") -> Page:
    """`pdf_base`: the page URL's last segment (the link id on /a/<link_id>, the index on /d/<digest_id>/<index>),
    so each specimen PDF link is relative to the page; empty, no PDF link."""
    html = (
        _env()
        .get_template("confirm.html.j2")
        .render(
            title="Please review and decide",
            accent=OK,
            facts=request_facts(link),
            csrf_token=link.csrf_token,
            max_comment=MAX_COMMENT,
            # the letter members will receive (coach.letters.specimen); its PDF links are relative to this page
            specimens=specimens_of(link.specimens),
            pdf_base=pdf_base,
            reasons=DECLINE_REASONS,
            on_behalf_of=link.on_behalf_of,
        )
    )
    return Page(200, html)


def result_page(status: int, title: str, *lines: str, accent: str = OK) -> Page:
    html = _env().get_template("result.html.j2").render(title=title, lines=lines, accent=accent)
    return Page(status, html)


def _verb(decision: DecisionRecord) -> str:
    return "approved" if decision.decision == "approved" else "declined"


def recorded_page(decision: DecisionRecord, link: LinkRecord | None = None) -> Page:
    """The decision this click just made, and what happens next (coach.approvals.next_step)."""
    verb = _verb(decision)
    why = f" ({reason_label(decision.reason)})" if decision.reason else ""
    follow = (
        next_step(link, decision.decision)
        if link is not None
        else "No letter will be sent for this request."
        if verb == "declined"
        else "Your approval is passed on to the campaign."
    )
    return result_page(
        200,
        f"Thank you: you {verb} this request{why}",
        f"Your decision was recorded at {when(decision.decided_at)}.",
        follow,
    )


@singledispatch
def page_for(problem: ApprovalProblem) -> Page:
    """The one mapping from a refusal to the page (and HTTP status) a person sees."""
    return result_page(400, "This request cannot be completed", "Nothing was recorded.", accent=STOP)


@page_for.register
def _(problem: AlreadyDecided) -> Page:
    d = problem.decision
    return result_page(
        200,
        f"Already {_verb(d)}",
        f"This request was {_verb(d)} by {d.decided_by} at {when(d.decided_at)}.",
        "Only the first answer counts, so nothing more is needed.",
    )


@page_for.register
def _(problem: TaskNoLongerWaiting) -> Page:
    lines = [
        "The campaign stopped waiting for this decision: the request timed out or was closed.",
        "Your click did not change anything. If a newer email arrives, please use its link.",
    ]
    if problem.decision is not None:
        d = problem.decision
        lines.insert(
            1,
            f"The answer given ({_verb(d)} by {d.decided_by} at {when(d.decided_at)}) "
            "arrived too late and is kept for the audit only.",
        )
    return result_page(410, "This request is no longer waiting for an answer", *lines, accent=STOP)


@page_for.register
def _(problem: DeliveryFailed) -> Page:
    return result_page(
        503,
        "Your decision is recorded, but not yet passed on",
        f"This request was {_verb(problem.decision)}; the decision is saved.",
        "We could not reach the campaign just now. Please press the button again in a minute.",
        accent=WARN,
    )


@page_for.register
def _(problem: LinkSuperseded) -> Page:
    return result_page(
        410,
        "This link was replaced by a newer email",
        "A reminder with a fresh link was sent for this decision.",
        "Please open the link in the newest email you received.",
        accent=WARN,
    )


@page_for.register
def _(problem: LinkExpired) -> Page:
    return result_page(
        410,
        "This link has expired",
        "The time to decide has passed. The campaign has moved on without this answer.",
        accent=STOP,
    )


@page_for.register
def _(problem: CsrfMismatch) -> Page:
    return result_page(
        403,
        "Please decide from the confirmation page",
        "This answer did not come from the page we showed you, so it was not recorded.",
        "Open the link from your email again and use its Approve or Decline button.",
        accent=STOP,
    )


@page_for.register
def _(problem: InvalidForm) -> Page:
    return result_page(
        400,
        "Please choose Approve or Decline",
        problem.reason,
        "Nothing was recorded. Go back, check the form and try again.",
        accent=STOP,
    )


@page_for.register
def _(problem: FormTooLarge) -> Page:
    return result_page(413, "Too much text", "Please shorten your comment and try again.")


@page_for.register
def _(problem: UnreadableForm) -> Page:
    return result_page(
        400,
        "This form could not be read",
        "Nothing was recorded.",
        "Open the link from your email again and use its Approve or Decline button.",
    )


@page_for.register
def _(problem: LinkNotFound) -> Page:
    return result_page(
        404,
        "Link not recognised",
        "This approval link is not valid. Please use the link in the most recent email.",
        accent=STOP,
    )


def not_found_page() -> Page:
    return page_for(LinkNotFound())


def error_page() -> Page:
    return result_page(
        500,
        "Something went wrong",
        "Your answer may not have been recorded. Please try again in a minute.",
        accent=STOP,
    )


def request_email_bodies(link: LinkRecord, url: str, intro: str) -> tuple[str, str]:
    """(text, html) of a request email; the url is its one link (and, for a client, its brief as a PDF beside it)."""
    context: dict[str, object] = {"facts": request_facts(link), "intro": intro, "url": url}
    context["recipient"] = link.recipient
    # a client's one-page brief (PDF), served beside its confirmation page (coach.brief.pdf)
    context["brief_url"] = f"{url}/brief.pdf" if link.brief_json and link.audience == "client" else None
    return (
        _env().get_template("request.txt.j2").render(**context),
        _env().get_template("request.html.j2").render(**context),
    )
