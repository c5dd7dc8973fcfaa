"""A feed's candidate at intake: its review notes come off the event (intake validates the event exactly as a
hand-written one) and become the campaign's `review` block, which makes the clinical review its first stage."""

from __future__ import annotations

from pydantic import ValidationError

from coach.feeds.service import DETAIL_TYPE, SOURCE_PREFIX
from coach.models import describe_validation_error
from coach.review.models import ReviewNotes

MARKET_SOURCE = "coach.market-feed"
# The candidates' rule (CDK deploys it; the local runtime matches against it): every feed, to the same intake.
FEED_PATTERN: dict = {"source": [{"prefix": SOURCE_PREFIX}], "detail-type": [DETAIL_TYPE]}


class BadReviewNotes(ValueError):
    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


def feed_source(raw: object) -> str | None:
    """`coach.feed.<feed>` when the event is a feed's candidate, else None."""
    source = raw.get("source") if isinstance(raw, dict) else None
    return source if isinstance(source, str) and source.startswith(SOURCE_PREFIX) else None


def split_candidate(raw: object) -> tuple[object, ReviewNotes | None]:
    """(the event as intake validates it, its review notes). A feed's candidate is always reviewed, notes or not;
    any other event passes unchanged, with no notes."""
    if feed_source(raw) is None:
        return raw, None
    assert isinstance(raw, dict)
    detail = raw.get("detail")
    if not isinstance(detail, dict):
        return {**raw, "source": MARKET_SOURCE}, ReviewNotes()
    try:
        notes = ReviewNotes.model_validate(detail.get("review") or {})
    except ValidationError as exc:
        raise BadReviewNotes(
            [f"detail.review.{r}" for r in describe_validation_error(exc, "(notes)")]
        ) from None
    event = {**raw, "source": MARKET_SOURCE, "detail": {k: v for k, v in detail.items() if k != "review"}}
    return event, notes
