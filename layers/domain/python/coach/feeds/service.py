"""One poll of one feed, whatever runs it (`coach feeds poll` locally; a scheduled function on AWS): the caller
gives the way to read the source (an archive, or openFDA) and the state; this picks the source's mapping."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from coach.feeds import SOURCES
from coach.feeds.candidate import PollResult
from coach.feeds.drugs_at_fda import poll_drugs_at_fda
from coach.feeds.ndc_directory import poll_ndc_directory
from coach.feeds.orange_book import poll_orange_book
from coach.feeds.recalls import EnforcementSource, poll_recalls
from coach.feeds.tables import Bundle
from coach.playbooks import load_playbook
from coach.ports import FeedState

DEFAULT_LEAD_DAYS = 90


class UnknownFeed(ValueError):
    pass


def lead_days() -> int:
    """How far ahead a patent expiry is raised: the patent_expiry playbook's `feed_lead_days`."""
    return load_playbook("patent_expiry").feed_lead_days or DEFAULT_LEAD_DAYS


def poll_source(
    source: str,
    state: FeedState,
    today: date,
    *,
    archive: Callable[[], Bundle],
    enforcement: Callable[[], EnforcementSource],
) -> PollResult:
    """`archive` reads the published zip of the file-based sources; `enforcement` opens openFDA (or a recording).
    Neither is called for a source that does not need it."""
    if source == "fda-recalls":
        return poll_recalls(enforcement(), state, today)
    if source == "drugs-at-fda":
        return poll_drugs_at_fda(archive(), state)
    if source == "orange-book":
        return poll_orange_book(archive(), state, today, lead_days())
    if source == "ndc-directory":
        return poll_ndc_directory(archive(), state)
    raise UnknownFeed(f"no feed named {source[:40]!r}: one of {', '.join(SOURCES)}")
