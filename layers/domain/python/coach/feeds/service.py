"""One poll of one feed, whatever runs it (`coach feeds poll` locally; a scheduled function on AWS): the caller
gives the way to read the source (an archive, or openFDA) and the state; this picks the source's mapping."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from coach.feeds import SOURCES
from coach.feeds.candidate import PollResult
from coach.feeds.drugs_at_fda import poll_drugs_at_fda
from coach.feeds.ndc_directory import poll_ndc_directory
from coach.feeds.orange_book import poll_orange_book
from coach.feeds.recalls import EnforcementSource, poll_recalls
from coach.feeds.tables import Bundle
from coach.playbooks import load_playbook
from coach.ports import EventPublisher, FeedState

DEFAULT_LEAD_DAYS = 90
DETAIL_TYPE = "Drug Market Event"
# Candidates go on the bus under a source naming the feed, never `coach.market-feed`: the intake rule matches only
# that one, so no candidate starts a campaign before a clinical pharmacist confirms it (docs/feeds.md).
SOURCE_PREFIX = "coach.feed."


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


class StagedState:
    """A FeedState whose writes wait for `commit()`: a poll's hashes and watermark are kept only once its
    candidates are on the bus, so a failed publish reads the same records again next time (the deterministic
    event_ids make a candidate published twice one campaign)."""

    def __init__(self, inner: FeedState) -> None:
        self.inner = inner
        self._watermarks: dict[str, str] = {}
        self._values: dict[str, dict[str, str]] = {}
        self._replaced: set[str] = set()

    def get_watermark(self, source: str) -> str | None:
        return self._watermarks.get(source, self.inner.get_watermark(source))

    def set_watermark(self, source: str, value: str) -> None:
        self._watermarks[source] = value

    def get_values(self, source: str, keys: Iterable[str]) -> dict[str, str]:
        wanted = list(keys)
        staged = self._values.get(source, {})
        stored = (
            {}
            if source in self._replaced
            else self.inner.get_values(source, [k for k in wanted if k not in staged])
        )
        return {**stored, **{k: staged[k] for k in wanted if k in staged}}

    def put_values(self, source: str, values: dict[str, str]) -> None:
        self._values.setdefault(source, {}).update(values)

    def replace_values(self, source: str, values: dict[str, str]) -> None:
        self._values[source] = dict(values)
        self._replaced.add(source)

    def commit(self) -> None:
        for source, values in self._values.items():
            if source in self._replaced:
                self.inner.replace_values(source, values)
            elif values:
                self.inner.put_values(source, values)
        for source, value in self._watermarks.items():
            self.inner.set_watermark(source, value)
        self._watermarks, self._values, self._replaced = {}, {}, set()


def publish(result: PollResult, publisher: EventPublisher) -> int:
    """The poll's candidates on the bus as `Drug Market Event`s from `coach.feed.<source>`; how many."""
    details: list[dict[str, Any]] = [candidate.as_json() for candidate in result.candidates]
    if details:
        publisher.put(SOURCE_PREFIX + result.source, DETAIL_TYPE, details)
    return len(details)


def run_feed(
    source: str,
    state: FeedState,
    publisher: EventPublisher,
    today: date,
    *,
    archive: Callable[[], Bundle],
    enforcement: Callable[[], EnforcementSource],
) -> PollResult:
    """Poll, publish the candidates, then keep the new state (in that order: nothing is remembered unpublished)."""
    staged = StagedState(state)
    result = poll_source(source, staged, today, archive=archive, enforcement=enforcement)
    publish(result, publisher)
    staged.commit()
    return result
