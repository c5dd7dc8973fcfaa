"""A candidate Drug Market Event: a validated event detail plus what the reviewing pharmacist must know."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from coach.models import MarketEvent, describe_validation_error


class FeedDataError(ValueError):
    """A feed file or response that cannot be read as published; the message names the file and the field."""


@dataclass(frozen=True)
class Candidate:
    detail: dict[str, Any]  # MarketEvent JSON, exactly as intake validates it
    reasons: tuple[str, ...] = ()
    missing: tuple[
        str, ...
    ] = ()  # e.g. ("drug.ndcs",): the campaign may not start until a person supplies them

    @property
    def event_id(self) -> str:
        return str(self.detail["event_id"])

    @property
    def startable(self) -> bool:
        """False while a field the campaign needs is missing: confirmation must supply it first."""
        return not self.missing

    def as_json(self) -> dict[str, Any]:
        return {**self.detail, "review": {"reasons": list(self.reasons), "missing": list(self.missing)}}


def make_candidate(
    detail: dict[str, Any], reasons: list[str], missing: list[str] | None = None, where: str = ""
) -> Candidate:
    """Validate `detail` as a MarketEvent (a candidate that intake would refuse is a bug in the mapping)."""
    try:
        event = MarketEvent.model_validate(detail)
    except ValidationError as exc:
        problems = "; ".join(describe_validation_error(exc, "(event)"))
        raise FeedDataError(f"{where}: the record does not make a valid market event ({problems})") from None
    return Candidate(event.model_dump(mode="json"), tuple(dict.fromkeys(reasons)), tuple(missing or ()))


@dataclass
class PollResult:
    source: str
    candidates: list[Candidate] = field(default_factory=list)
    unchanged: int = 0  # records already seen that bring no new candidate
    skipped: str | None = None  # why nothing was read (the source has not changed since the last poll)
    warnings: list[str] = field(default_factory=list)  # what the poll could not do, for the operator
    indexed: int | None = None  # the NDC directory: index entries written

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "source": self.source,
            "candidates": [c.as_json() for c in self.candidates],
            "unchanged": self.unchanged,
        }
        if self.skipped:
            body["skipped"] = self.skipped
        if self.warnings:
            body["warnings"] = self.warnings
        if self.indexed is not None:
            body["indexed"] = self.indexed
        return body


def content_hash(record: Any) -> str:
    """SHA-256 of the record's canonical JSON: the same facts in any key order hash the same."""
    text = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def title_case(name: str) -> str:
    """FDA files write names in capitals; letters read better in title case (CLARITIN-D → Claritin-D)."""
    return re.sub(r"[A-Za-z]+", lambda m: m.group(0).capitalize(), " ".join(name.split()))
