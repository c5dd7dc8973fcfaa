"""How a reviewed campaign's clinical review ended, as its report shows it: who confirmed, corrected or dismissed
it, when, and their notes (None for a campaign from a hand-written event, which had no review)."""

from __future__ import annotations

from typing import Any, Protocol

from coach.review.models import REVIEW_CLIENT, REVIEW_ROLE

DECIDED = ("confirmed", "corrected", "dismissed")


class ReviewHistory(Protocol):
    def question_audit(self, campaign_id: str, client_id: str, role: str) -> list[Any]: ...


def review_summary(campaign_id: str, *, store: ReviewHistory) -> dict[str, Any] | None:
    trail = store.question_audit(campaign_id, REVIEW_CLIENT, REVIEW_ROLE)
    if not trail:
        return None
    decided = [r for r in trail if r.action in DECIDED]
    if not decided:
        return {"outcome": "no_review", "by": None, "at": None, "notes": ""}
    first = decided[0]
    return {"outcome": first.action, "by": first.who, "at": first.at, "notes": first.comment}
