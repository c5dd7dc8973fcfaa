"""One poll of one feed: the source picks its mapping, and only the reader it needs is opened."""

from __future__ import annotations

from datetime import date

import pytest
from coach.adapters.feed_state import MemoryFeedState
from coach.feeds.service import UnknownFeed, lead_days, poll_source
from coach.feeds.tables import Bundle

from tests.unit.feed_fixtures import FIXTURES


def never():
    raise AssertionError("this source must not open the other reader")


@pytest.mark.parametrize(
    ("source", "folder", "kinds"),
    [
        ("drugs-at-fda", "drugsatfda", {"otc_switch", "new_drug"}),
        ("orange-book", "orangebook", {"patent_expiry"}),
        ("ndc-directory", "ndctext", set()),
    ],
)
def test_each_archive_source_reads_its_archive_only(source, folder, kinds):
    result = poll_source(
        source,
        MemoryFeedState(),
        date(2026, 12, 1),
        archive=lambda: Bundle.from_path(FIXTURES / folder),
        enforcement=never,
    )
    assert result.source == source and {c.detail["event_type"] for c in result.candidates} == kinds


def test_an_unknown_feed_is_refused_by_name():
    with pytest.raises(UnknownFeed, match="no feed named 'pink-sheets'"):
        poll_source("pink-sheets", MemoryFeedState(), date(2026, 12, 1), archive=never, enforcement=never)


def test_the_lead_time_is_the_playbooks():
    assert lead_days() == 90
