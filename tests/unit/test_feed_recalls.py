"""openFDA enforcement records → recall candidates: every mapping rule and trap of docs/feeds.md, on the recorded
pages of tests/fixtures/feeds/recalls."""

from __future__ import annotations

import copy
import json
from datetime import date

import pytest
from coach.adapters.feed_state import MemoryFeedState
from coach.feeds.candidate import FeedDataError
from coach.feeds.recalls import map_recall, map_recalls, poll_recalls
from coach.models import MarketEvent

from tests.unit.feed_fixtures import FIXTURES

TODAY = date(2026, 11, 30)


def page(name: str) -> list[dict]:
    return json.loads((FIXTURES / "recalls" / name).read_text())["results"]


FIRST = page("first/page-1.json") + page("first/page-2.json")
LATER = page("later/page-1.json")


def record(number: str, records=FIRST) -> dict:
    return copy.deepcopy(next(r for r in records if r["recall_number"] == number))


class Recording:
    """An EnforcementSource serving fixed records, remembering what it was asked."""

    def __init__(self, records: list[dict], last_updated: str) -> None:
        self._records, self._last_updated = records, last_updated
        self.asked: list = []

    def last_updated(self) -> str:
        return self._last_updated

    def records(self, since, until):
        self.asked.append((since, until))
        return iter(self._records)


def test_a_class_i_recall_maps_every_field_and_validates_as_a_market_event():
    candidate = map_recall(record("D-0101-2027"))
    detail = candidate.detail
    MarketEvent.model_validate(detail)  # what intake will accept
    assert detail["event_id"] == "fda-recall-D-0101-2027-class-I"
    assert detail["event_type"] == "recall" and detail["recall_class"] == "I"
    assert detail["announced_on"] == "2026-11-25"  # report_date
    assert detail["effective_date"] == "2026-11-04"  # recall_initiation_date
    assert detail["drug"]["name"] == "Heparin Sodium"  # openfda.brand_name
    assert "Lack of Assurance of Sterility" in detail["summary"]
    assert detail["source_url"].startswith("https://api.fda.gov/drug/enforcement.json?search=recall_number:")
    assert candidate.startable


def test_ndcs_come_from_the_recall_text_not_from_openfda_package_or_product_lists():
    detail = map_recall(record("D-0101-2027")).detail
    # the text names 0999-7620-10 and -25 (4-4-2); openFDA also lists -30 and another product, not recalled
    assert detail["drug"]["ndcs"] == ["00999762010", "00999762025"]
    assert detail["drug"]["ingredient"] is None  # an ingredient would reach members whose packages are fine


def test_code_info_ndcs_count_as_text_and_a_5_4_1_ndc_is_padded():
    assert map_recall(record("D-0102-2027")).detail["drug"]["ndcs"] == ["99001441001"]


def test_package_ndc_is_used_only_when_the_text_names_none_and_the_review_says_so():
    candidate = map_recall(record("D-0104-2027"))
    assert candidate.detail["drug"]["ndcs"] == ["00904580661"]  # openfda.package_ndc, 4-4-2 → 11 digits
    assert not any("0904-5806" in ndc for ndc in candidate.detail["drug"]["ndcs"])
    reasons = " ".join(candidate.reasons)
    assert "package_ndc" in reasons and "may list packages that are not recalled" in reasons
    assert "9900144101" in reasons  # the 10 bare digits the text names are reported, not guessed


def test_product_ndc_is_never_used_even_when_it_is_all_openfda_has():
    bare = record("D-0104-2027")
    bare["openfda"] = {"product_ndc": ["0904-5806"], "substance_name": ["LORATADINE"]}
    candidate = map_recall(bare)
    assert candidate.detail["drug"]["ndcs"] == []
    assert candidate.missing == ("drug.ndcs",)


def test_an_empty_openfda_block_makes_a_candidate_that_says_it_cannot_start():
    candidate = map_recall(record("D-0103-2027"))
    MarketEvent.model_validate(candidate.detail)
    assert candidate.detail["drug"]["ndcs"] == []
    assert candidate.missing == ("drug.ndcs",) and not candidate.startable
    assert "cannot start until a person supplies" in " ".join(candidate.reasons)
    assert candidate.as_json()["review"]["missing"] == ["drug.ndcs"]
    assert candidate.detail["drug"]["name"] == "Methylcobalamin 1 mg/mL injection"  # from product_description


def test_a_record_without_classification_or_with_a_bad_date_is_refused_by_name():
    broken = record("D-0101-2027")
    broken["report_date"] = "2026-11-25"
    with pytest.raises(FeedDataError, match=r"recall D-0101-2027: report_date .* is not YYYYMMDD"):
        map_recall(broken)


def test_first_poll_makes_a_candidate_per_recall_and_the_same_records_again_make_none():
    state = MemoryFeedState()
    first = map_recalls(FIRST, state)
    assert [c.event_id for c in first.candidates] == [
        "fda-recall-D-0101-2027-class-I",
        "fda-recall-D-0102-2027-class-II",
        "fda-recall-D-0103-2027-class-II",
        "fda-recall-D-0104-2027-class-III",
    ]
    again = map_recalls(FIRST, state)
    assert again.candidates == [] and again.unchanged == 4


def test_reclassification_to_a_more_serious_class_is_a_new_candidate_but_a_status_change_is_not():
    state = MemoryFeedState()
    map_recalls(FIRST, state)
    later = map_recalls(LATER, state)
    # D-0102 went class II → I (a new event_id); D-0104 only became Terminated; the others are unchanged
    assert [c.event_id for c in later.candidates] == ["fda-recall-D-0102-2027-class-I"]
    assert "Reclassified from class II to class I" in " ".join(later.candidates[0].reasons)
    assert later.unchanged == 3
    assert map_recalls(LATER, state).candidates == []


def test_a_reclassification_to_a_less_serious_class_raises_nothing_and_is_not_undone_later():
    state = MemoryFeedState()
    map_recalls(FIRST, state)
    milder = record("D-0101-2027")
    milder["classification"] = "Class II"
    assert map_recalls([milder], state).candidates == []
    assert map_recalls([record("D-0101-2027")], state).candidates == []  # back to class I: already raised


def test_an_unreadable_record_is_skipped_with_a_warning_and_the_others_still_raise_candidates():
    broken = record("D-0101-2027")
    broken["recall_initiation_date"] = "11/04/2026"
    state = MemoryFeedState()
    result = map_recalls([broken, record("D-0102-2027")], state)
    assert [c.event_id for c in result.candidates] == ["fda-recall-D-0102-2027-class-II"]
    assert (
        "recall D-0101-2027: recall_initiation_date '11/04/2026' is not YYYYMMDD; skipped" in result.warnings
    )
    fixed = map_recalls(
        [record("D-0101-2027")], state
    )  # nothing was remembered for it: the next poll raises it
    assert [c.event_id for c in fixed.candidates] == ["fda-recall-D-0101-2027-class-I"]


def test_a_record_repeated_across_pages_counts_once():
    result = map_recalls([record("D-0101-2027"), record("D-0101-2027")], MemoryFeedState())
    assert len(result.candidates) == 1


def test_an_unclassified_record_waits_with_a_warning():
    pending = record("D-0101-2027")
    pending["classification"] = "Not Yet Classified"
    result = map_recalls([pending], MemoryFeedState())
    assert result.candidates == [] and "not classified" in result.warnings[0]


def test_the_poll_reads_only_when_openfda_changed_and_from_the_watermark_minus_two_weeks():
    state = MemoryFeedState()
    source = Recording(FIRST, "2026-11-25")
    first = poll_recalls(source, state, TODAY)
    assert len(first.candidates) == 4
    assert source.asked == [(date(2026, 9, 1), TODAY)]  # no watermark: the last 90 days

    unchanged = poll_recalls(source, state, TODAY)
    assert unchanged.skipped and unchanged.candidates == []
    assert len(source.asked) == 1  # /status said nothing changed: no query at all

    updated = Recording(LATER, "2026-12-02")
    later = poll_recalls(updated, state, date(2026, 12, 3))
    assert updated.asked == [
        (date(2026, 11, 11), date(2026, 12, 3))
    ]  # newest report_date 2026-11-25 − 14 days
    assert [c.event_id for c in later.candidates] == ["fda-recall-D-0102-2027-class-I"]
