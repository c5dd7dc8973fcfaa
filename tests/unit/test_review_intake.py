"""Intake of a feed's candidate: the review notes come off the event (validated as any event) and become the
campaign's review block, timed by coach/review/policy.json; the feed candidates' rule matches every feed and no
hand-written event."""

from __future__ import annotations

import json

import pytest
from coach.feeds.service import SOURCE_PREFIX
from coach.intake import EVENT_PATTERN, InvalidEvent, plan_campaign
from coach.review.intake import FEED_PATTERN
from coach.review.models import review_policy

from coach_local.runtime.eventbridge import as_bridge_event, matches

DETAIL: dict[str, object] = {
    "event_id": "fda-recalls-D-0001-2027",
    "event_type": "recall",
    "recall_class": "II",
    "drug": {"name": "Metformin ER", "ingredient": "metformin hydrochloride", "ndcs": []},
    "effective_date": "2027-01-04",
    "announced_on": "2027-01-06",
    "summary": "Metformin ER 500 mg recalled.",
    "alternatives": [],
    "source_url": None,
}
NOTES = {"reasons": ["The record names no NDC."], "missing": ["drug.ndcs"]}


def candidate(source: str = "coach.feed.fda-recalls", notes: dict | None = None, **detail) -> dict:
    return {
        "source": source,
        "detail-type": "Drug Market Event",
        "detail": {**DETAIL, **detail, "review": NOTES if notes is None else notes},
    }


def test_a_candidate_starts_a_campaign_whose_first_stage_is_its_review():
    plan = plan_campaign(candidate(), time_scale=1.0)
    review = plan.campaign.review
    assert review is not None
    assert review["source"] == "coach.feed.fda-recalls"
    assert review["reasons"] == NOTES["reasons"] and review["missing"] == ["drug.ndcs"]
    assert review["deadline_seconds"] == review_policy().timeout_seconds
    assert "review" not in json.loads(plan.campaign.model_dump_json())["event"]


def test_a_class_i_recall_gets_the_short_deadline_scaled_like_every_wait():
    plan = plan_campaign(candidate(recall_class="I"), time_scale=1 / 86_400)
    other = plan_campaign(candidate(recall_class="II"), time_scale=1 / 86_400)
    assert plan.campaign.review is not None and other.campaign.review is not None
    assert review_policy().class_i_timeout_seconds < review_policy().timeout_seconds
    assert plan.campaign.review["deadline_seconds"] < other.campaign.review["deadline_seconds"]


def test_a_hand_written_event_has_no_review_and_goes_straight_to_the_audience():
    hand_written = {"source": "coach.market-feed", "detail-type": "Drug Market Event", "detail": DETAIL}
    assert plan_campaign(hand_written).campaign.review is None


def test_a_hand_written_event_cannot_carry_review_notes():
    hand_written = candidate(source="coach.market-feed")
    with pytest.raises(InvalidEvent, match="review: unknown field"):
        plan_campaign(hand_written)


def test_review_notes_that_are_not_the_feeds_are_refused_naming_where():
    with pytest.raises(InvalidEvent, match=r"detail\.review\.missng: unknown field"):
        plan_campaign(candidate(notes={"reasons": [], "missng": []}))


def test_a_candidate_without_notes_is_still_reviewed():
    raw = candidate()
    del raw["detail"]["review"]
    assert plan_campaign(raw).campaign.review is not None


def test_the_candidate_event_is_validated_as_any_event():
    with pytest.raises(InvalidEvent, match="effective_date"):
        plan_campaign(candidate(effective_date="04/01/2027"))


@pytest.mark.parametrize("feed", ["fda-recalls", "drugs-at-fda", "orange-book"])
def test_the_feed_rule_matches_every_feeds_candidates_and_the_market_rule_none(feed):
    event = as_bridge_event(candidate(source=SOURCE_PREFIX + feed))
    assert matches(json.dumps(FEED_PATTERN), event)
    assert not matches(json.dumps(EVENT_PATTERN), event)


def test_the_feed_rule_does_not_match_a_hand_written_event():
    event = as_bridge_event(
        {"source": "coach.market-feed", "detail-type": "Drug Market Event", "detail": DETAIL}
    )
    assert not matches(json.dumps(FEED_PATTERN), event)
    assert matches(json.dumps(EVENT_PATTERN), event)
