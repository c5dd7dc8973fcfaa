"""What the clinical pharmacist sees: the review page (the source record, what was matched, why each field needs
review, and the form), the pages after a decision, and the request email. Autoescaped; the review templates extend
the approval pages' base, so both look alike."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache, singledispatch

from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined, select_autoescape

from coach.approvals.errors import (
    AlreadyDecided,
    ApprovalProblem,
    CsrfMismatch,
    DeliveryFailed,
    LinkNotFound,
    TaskNoLongerWaiting,
)
from coach.approvals.pages import OK, STOP, WARN, Page, event_label, page_for, result_page, when
from coach.approvals.records import DecisionRecord, LinkRecord
from coach.models import MarketEvent
from coach.review.form import FIELD_LABELS, MAX_COMMENT, form_values
from coach.review.models import ReviewBlock

FEED_NAMES = {
    "coach.feed.fda-recalls": "openFDA drug enforcement reports (recalls)",
    "coach.feed.drugs-at-fda": "Drugs@FDA data files",
    "coach.feed.orange-book": "the Orange Book",
}
VERBS = {"confirmed": "confirmed", "corrected": "corrected and confirmed", "dismissed": "dismissed"}


@cache
def _env() -> Environment:
    return Environment(
        loader=ChoiceLoader(
            [PackageLoader("coach.review", "templates"), PackageLoader("coach.approvals", "templates")]
        ),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        keep_trailing_newline=True,
    )


def review_facts(link: LinkRecord, event: MarketEvent, review: ReviewBlock) -> dict[str, object]:
    """The candidate as the page and the email show it: the source, the drug as matched, and the review notes."""
    return {
        "drug_name": event.drug.name,
        "ingredient": event.drug.ingredient or "(none)",
        "ndcs": ", ".join(event.drug.ndcs) or "none: the feed could not determine them",
        "event_label": event_label(event.event_type, event.recall_class),
        "event_id": event.event_id,
        "announced_on": f"{event.announced_on:%B %-d, %Y}",
        "effective_date": f"{event.effective_date:%B %-d, %Y}",
        "summary": event.summary,
        "alternatives": ", ".join(event.alternatives) or "(none)",
        "source": FEED_NAMES.get(review.source, review.source),
        "source_url": event.source_url,
        "reasons": review.reasons,
        "missing": [FIELD_LABELS.get(name, name) for name in review.missing],
        "deadline": when(link.deadline),
        "kind": link.kind,
        "escalation_contact": link.escalation_contact,
        "class_i": event.recall_class == "I",
    }


def review_page(
    link: LinkRecord,
    event: MarketEvent,
    review: ReviewBlock,
    *,
    values: Mapping[str, str] | None = None,
    problems: list[str] | None = None,
) -> Page:
    """The form, filled from the candidate, or (after a refused POST) with what was typed and why it was refused."""
    filled = form_values(event)
    if values is not None:
        filled = {name: str(values.get(name, "")) for name in (*filled, "comment")}
    html = (
        _env()
        .get_template("review.html.j2")
        .render(
            title="Clinical review: please confirm this market event",
            accent=STOP if problems else OK,
            facts=review_facts(link, event, review),
            values={"comment": "", **filled},
            problems=problems or [],
            csrf_token=link.csrf_token,
            max_comment=MAX_COMMENT,
        )
    )
    return Page(422 if problems else 200, html)


def _settled_verb(decision: DecisionRecord) -> str:
    return VERBS.get(decision.decision, decision.decision)


def review_recorded_page(decision: DecisionRecord) -> Page:
    verb = _settled_verb(decision)
    follow = (
        "Nothing will be sent: the campaign ends here, and its report says it was dismissed."
        if decision.decision == "dismissed"
        else "The campaign now finds the affected members and asks their account teams, on the event as you "
        "confirmed it."
    )
    return result_page(
        200,
        f"Thank you: you {verb} this market event",
        f"Your decision was recorded at {when(decision.decided_at)}.",
        follow,
    )


@singledispatch
def review_page_for(problem: ApprovalProblem) -> Page:
    """A refusal on a review link: the approval pages' answer, but in the review's words where they differ."""
    return page_for(problem)


@review_page_for.register
def _(problem: AlreadyDecided) -> Page:
    d = problem.decision
    return result_page(
        200,
        f"Already {_settled_verb(d)}",
        f"This market event was {_settled_verb(d)} by {d.decided_by} at {when(d.decided_at)}.",
        "Only the first answer counts, so nothing more is needed.",
    )


@review_page_for.register
def _(problem: TaskNoLongerWaiting) -> Page:
    lines = [
        "The campaign stopped waiting for this review: it timed out or was closed, and nothing was sent.",
        "Your click did not change anything.",
    ]
    if problem.decision is not None:
        d = problem.decision
        lines.insert(1, f"The answer given ({_settled_verb(d)} by {d.decided_by}) arrived too late.")
    return result_page(410, "This review is no longer waiting for an answer", *lines, accent=STOP)


@review_page_for.register
def _(problem: DeliveryFailed) -> Page:
    return result_page(
        503,
        "Your decision is recorded, but not yet passed on",
        f"This market event was {_settled_verb(problem.decision)}; the decision is saved.",
        "We could not reach the campaign just now. Please press the button again in a minute.",
        accent=WARN,
    )


@review_page_for.register
def _(problem: CsrfMismatch) -> Page:
    return result_page(
        403,
        "Please decide from the review page",
        "This answer did not come from the page we showed you, so it was not recorded.",
        "Open the link from your email again and use its Confirm or Dismiss button.",
        accent=STOP,
    )


@review_page_for.register
def _(problem: LinkNotFound) -> Page:
    return result_page(
        404,
        "Link not recognised",
        "This review link is not valid. Please use the link in the most recent email.",
        accent=STOP,
    )


def review_email_bodies(
    link: LinkRecord, event: MarketEvent, review: ReviewBlock, url: str, intro: str
) -> tuple[str, str]:
    context = {"facts": review_facts(link, event, review), "intro": intro, "url": url}
    return (
        _env().get_template("review-request.txt.j2").render(**context),
        _env().get_template("review-request.html.j2").render(**context),
    )
