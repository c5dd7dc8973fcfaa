"""Market feeds: the public FDA sources read into candidate Drug Market Events (docs/feeds.md).

Each source module parses the records as FDA publishes them and maps them to candidates: the event `detail` of
docs/data-contract.md plus `review.reasons` (what a clinical pharmacist must check) and `review.missing` (fields a
person must supply before the campaign may start). The network and the remembered state are ports."""

from __future__ import annotations

SOURCES: tuple[str, ...] = ("fda-recalls", "drugs-at-fda", "orange-book", "ndc-directory")
