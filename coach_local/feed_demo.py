"""`coach demo` starts at the feed: a recorded excerpt of the public Drugs@FDA data files (tab-delimited, cp1252, as
FDA publishes them) holding loratadine's 2002 Rx-to-OTC switch is polled into the Claritin candidate, which goes on
the local bus as `coach.feed.drugs-at-fda`; the demo's clinical pharmacist (events/claritin_review.json) reviews it
on its page, supplying the lake's Claritin NDCs the excerpt cannot resolve without the NDC directory."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import NoReturn

from coach.feeds.service import DETAIL_TYPE, SOURCE_PREFIX, poll_source
from coach.feeds.tables import Bundle

from coach_local.feed_state import FolderFeedState
from coach_local.inputs import Decisions, load_decisions

EVENTS = Path(__file__).resolve().parent / "events"
DEMO_FEED = (
    EVENTS / "drugsatfda-claritin"
)  # Submissions, Applications, Products and lookups of NDA019658/020641/020704
DEMO_REVIEW = EVENTS / "claritin_review.json"
FEED = "drugs-at-fda"


@dataclass(frozen=True)
class FeedStart:
    envelope: dict  # the candidate as the bus carries it
    reasons: list[str]  # why the pharmacist must look
    missing: list[str]


def _no_recalls() -> NoReturn:
    raise AssertionError("the demo polls Drugs@FDA only: it reads no recall")


def demo_candidate(today: date | None = None) -> FeedStart:
    """Poll the recorded excerpt with a fresh state (every demo sees the switch as new) into its one candidate."""
    with tempfile.TemporaryDirectory(prefix="coach-demo-feed-") as state:
        result = poll_source(
            FEED,
            FolderFeedState(Path(state)),
            today or date.today(),
            archive=lambda: Bundle.from_path(DEMO_FEED),
            enforcement=_no_recalls,
        )
    [candidate] = result.candidates
    envelope = {"source": SOURCE_PREFIX + FEED, "detail-type": DETAIL_TYPE, "detail": candidate.as_json()}
    return FeedStart(envelope, list(candidate.reasons), list(candidate.missing))


def demo_review() -> Decisions:
    """The demo pharmacist's answer (a decisions file's `clinical_review` entry); every client approves."""
    return load_decisions(DEMO_REVIEW)
