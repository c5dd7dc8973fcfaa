"""The pharmacist's answer read from the review page: confirm (with any corrections), or dismiss.

A correction is validated with the same models as a hand-written event (coach.models.MarketEvent): a bad value
re-shows the form with what was typed and a message naming the field, never a partial decision."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qs

from pydantic import ValidationError

from coach.approvals.errors import FormTooLarge, UnreadableForm
from coach.models import MarketEvent, describe_validation_error
from coach.review.models import NDCS, ReviewBlock

MAX_COMMENT = 1000
FIELD_LABELS = {
    "drug.ndcs": "NDCs",
    "effective_date": "Effective date",
    "alternatives": "Alternatives",
    "summary": "Summary",
}
_NDC_SEPARATORS = re.compile(r"[\s,;]+")


class ReviewFormError(ValueError):
    """What is wrong with the posted form, one message per field (named as on the page)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class ReviewAnswer:
    choice: Literal["confirmed", "corrected", "dismissed"]
    event: MarketEvent  # what the campaign runs on (the candidate itself when dismissed)
    changes: tuple[str, ...]  # "effective_date: 2002-11-27 → 2003-01-01", …
    comment: str


def form_values(event: MarketEvent) -> dict[str, str]:
    """The form's fields filled from an event (the page shows the candidate this way)."""
    return {
        "ndcs": "\n".join(event.drug.ndcs),
        "effective_date": event.effective_date.isoformat(),
        "alternatives": "\n".join(event.alternatives),
        "summary": event.summary,
    }


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace("\r\n", "\n").split("\n") if line.strip()]


def _changed_event(event: MarketEvent, form: Mapping[str, str]) -> MarketEvent:
    detail = event.model_dump(mode="json")
    detail["drug"]["ndcs"] = [n for n in _NDC_SEPARATORS.split(form.get("ndcs", "")) if n]
    detail["effective_date"] = form.get("effective_date", "").strip()
    detail["alternatives"] = _lines(form.get("alternatives", ""))
    detail["summary"] = form.get("summary", "").replace("\r\n", "\n").strip()
    try:
        return MarketEvent.model_validate(detail)
    except ValidationError as exc:
        problems = describe_validation_error(exc, "(event)")
        raise ReviewFormError([_as_on_page(p) for p in problems]) from None


def _as_on_page(problem: str) -> str:
    """`drug.ndcs.0: …` → `NDCs: …`; `effective_date: …` → `Effective date: …`."""
    where, _, message = problem.partition(": ")
    for field, label in FIELD_LABELS.items():
        if where == field or where.startswith(field + "."):
            return f"{label}: {message}"
    if where.startswith("drug"):
        return f"NDCs: {message}"
    return problem


def changes_between(before: MarketEvent, after: MarketEvent) -> tuple[str, ...]:
    """What the pharmacist changed, field by field, for the audit (public drug facts only)."""

    def shown(values: list[str]) -> str:
        return ", ".join(values) if values else "(none)"

    changes: list[str] = []
    if before.drug.ndcs != after.drug.ndcs:
        changes.append(f"drug.ndcs: {shown(before.drug.ndcs)} → {shown(after.drug.ndcs)}")
    if before.effective_date != after.effective_date:
        changes.append(f"effective_date: {before.effective_date} → {after.effective_date}")
    if before.alternatives != after.alternatives:
        changes.append(f"alternatives: {shown(before.alternatives)} → {shown(after.alternatives)}")
    if before.summary != after.summary:
        changes.append("summary: rewritten")
    return tuple(changes)


def read_answer(event: MarketEvent, review: ReviewBlock, form: Mapping[str, str]) -> ReviewAnswer:
    """The answer a POST carries. `decision` is `confirm` (or `correct`: the same button, the fields as edited) or
    `dismiss`. Raises ReviewFormError with every problem found."""
    choice = form.get("decision", "")
    comment = form.get("comment", "").replace("\r\n", "\n").strip()
    problems: list[str] = []
    if len(comment) > MAX_COMMENT:
        problems.append(f"Comment: longer than {MAX_COMMENT} characters")
    if choice == "dismiss":
        if problems:
            raise ReviewFormError(problems)
        return ReviewAnswer("dismissed", event, (), comment)
    if choice not in ("confirm", "correct"):
        raise ReviewFormError(["Use the Confirm or Dismiss button on the page."])
    try:
        corrected = _changed_event(event, form)
    except ReviewFormError as exc:
        raise ReviewFormError(exc.problems + problems) from None
    if NDCS in review.missing and not corrected.drug.ndcs:
        problems.append(
            "NDCs: the feed could not determine which packages this is about; enter the NDCs before confirming"
        )
    if problems:
        raise ReviewFormError(problems)
    changes = changes_between(event, corrected)
    return ReviewAnswer("corrected" if changes else "confirmed", corrected, changes, comment)


# The review form carries the event's corrections (up to 500 NDCs, a 2,000-character summary), so it may be larger
# than the approval form; a body larger than it can produce is still refused before it is decoded.
MAX_REVIEW_BODY = 48 * 1024


def read_review_form(raw: str, decoded: Callable[[], str | None]) -> dict[str, str]:
    """The fields of a POST to a review link (`raw` as API Gateway passed it, `decoded` its text)."""
    if len(raw) > 2 * MAX_REVIEW_BODY:
        raise FormTooLarge
    try:
        body = decoded() or ""
        if len(body.encode()) > MAX_REVIEW_BODY:
            raise FormTooLarge
        fields = parse_qs(body, keep_blank_values=True, max_num_fields=12)
    except ValueError as error:  # not base64 or not UTF-8, or more fields than our form has
        raise UnreadableForm from error
    return {name: values[0] for name, values in fields.items()}
