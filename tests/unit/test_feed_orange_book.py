"""The Orange Book → patent_expiry (N days ahead, N from the playbook) and generic_launch (the first A row where
only N rows were) candidates, on two recorded monthly editions."""

from __future__ import annotations

from datetime import date

from coach.adapters.feed_state import MemoryFeedState
from coach.feeds.orange_book import ob_date, poll_orange_book
from coach.feeds.tables import Bundle
from coach.models import MarketEvent
from coach.playbooks import load_playbook

from tests.unit.feed_fixtures import FIXTURES, copy_of, replace_line

EDITION = Bundle.from_path(FIXTURES / "orangebook")
NEXT_EDITION = Bundle.from_path(FIXTURES / "orangebook-next")
LEAD = 90
EXPIRY = "orange-book-NDA209999-patent-expiry-2027-02-10"


def test_the_lead_time_comes_from_the_patent_expiry_playbook():
    assert load_playbook("patent_expiry").feed_lead_days == LEAD


def test_a_brand_without_a_generic_is_raised_n_days_before_its_last_protection_ends():
    too_early = poll_orange_book(EDITION, MemoryFeedState(), date(2026, 11, 11), LEAD)  # 91 days before
    assert too_early.candidates == []
    result = poll_orange_book(EDITION, MemoryFeedState(), date(2026, 11, 12), LEAD)  # exactly 90 days before
    [candidate] = result.candidates
    detail = candidate.detail
    MarketEvent.model_validate(detail)
    assert detail["event_id"] == EXPIRY and detail["event_type"] == "patent_expiry"
    assert detail["effective_date"] == "2027-02-10" and detail["announced_on"] == "2026-11-12"
    assert detail["drug"] == {"name": "Fictivor", "ingredient": "fictivastatin calcium", "ndcs": []}
    # the 20 mg product ends with patent 9999001; the 10 mg one is protected until its PED exclusivity, later
    assert "(20MG TABLET;ORAL) ends 2027-02-10: patent 9999001" in candidate.reasons[0]


def test_the_later_of_patent_and_exclusivity_decides():
    result = poll_orange_book(EDITION, MemoryFeedState(), date(2027, 6, 1), LEAD)
    assert [c.event_id for c in result.candidates] == ["orange-book-NDA209999-patent-expiry-2027-08-10"]
    assert "exclusivity PED" in result.candidates[0].reasons[0]


def test_a_date_already_passed_or_a_brand_with_a_generic_raises_nothing():
    assert poll_orange_book(EDITION, MemoryFeedState(), date(2027, 8, 11), LEAD).candidates == []
    # Claritin (N, OTC) has a generic loratadine (A) of the same form and strength: never a patent_expiry


def test_an_expiry_is_raised_once():
    state = MemoryFeedState()
    assert len(poll_orange_book(EDITION, state, date(2026, 12, 1), LEAD).candidates) == 1
    again = poll_orange_book(EDITION, state, date(2026, 12, 2), LEAD)
    assert again.candidates == []


def test_the_first_generic_is_a_launch_only_against_a_previous_edition():
    state = MemoryFeedState()
    baseline = poll_orange_book(NEXT_EDITION, state, date(2026, 10, 1), LEAD)
    assert baseline.candidates == [] and "baseline" in baseline.warnings[0]

    state = MemoryFeedState()
    poll_orange_book(EDITION, state, date(2026, 10, 1), LEAD)  # October: Exemplar has no generic
    november = poll_orange_book(NEXT_EDITION, state, date(2026, 11, 5), LEAD)
    [launch] = [c for c in november.candidates if c.detail["event_type"] == "generic_launch"]
    detail = launch.detail
    MarketEvent.model_validate(detail)
    assert detail["event_id"] == "orange-book-ANDA219876-001-generic-launch"
    assert (
        detail["drug"]["name"] == "Exemplar" and detail["drug"]["ingredient"] == "exemplamide hydrochloride"
    )
    assert detail["effective_date"] == "2026-11-03"  # the generic's Approval_Date
    assert detail["alternatives"] == ["generic exemplamide hydrochloride"]
    december = poll_orange_book(NEXT_EDITION, state, date(2026, 12, 5), LEAD)
    assert [c.detail["event_type"] for c in december.candidates] == [
        "patent_expiry"
    ]  # Fictivor, now 67 days out


def test_a_discontinued_generic_does_not_count_as_one(tmp_path):
    folder = copy_of("orangebook-next", tmp_path)
    replace_line(folder / "products.txt", "Nov 3, 2026~No~No~RX", "Nov 3, 2026~No~No~DISCN")
    state = MemoryFeedState()
    poll_orange_book(EDITION, state, date(2026, 10, 1), LEAD)
    assert poll_orange_book(Bundle.from_path(folder), state, date(2026, 11, 5), LEAD).candidates == []


def test_orange_book_dates_as_published():
    assert ob_date("Jun 19, 2026") == date(2026, 6, 19)
    assert ob_date("Jun 19,2026") == date(2026, 6, 19)
    assert ob_date("Approved Prior to Jan 1, 1982") is None
    assert ob_date("") is None
