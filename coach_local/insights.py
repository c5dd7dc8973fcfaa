"""What a local run adds to report.json for people: per-stage timings and the template versions used.

Counts, times and template hashes only: no member appears here.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from coach_local.dispatch import Invocation

# (function, stage shown to people), in workflow order.
STAGES: tuple[tuple[str, str], ...] = (
    ("intake", "Intake"),
    ("audience", "Find the audience"),
    ("notify", "Inform account teams and clients"),
    ("approval_request", "Ask for approval"),
    ("approval_api", "Decisions clicked"),
    ("letters", "Letters and emails"),
    ("client_outcome", "Client outcomes"),
    ("measure_outcomes", "Outcomes measured (after the follow-up)"),
    ("summary", "Summary"),
)


def stage_timings(invocations: Iterable[Invocation], campaign_id: str) -> list[dict[str, Any]]:
    """Per stage: invocations, failures, first start and last end (seconds after intake received the event),
    wall-clock span and busy time (the sum of the invocations' durations: what Lambda would bill)."""
    by_function: dict[str, list[Invocation]] = {}
    for call in invocations:
        # approval clicks and intake do not name a campaign in their input; a local run has one campaign at a time
        if call.campaign_id in (campaign_id, None):
            by_function.setdefault(call.function, []).append(call)
    if not by_function:
        return []
    started = min(c.started for calls in by_function.values() for c in calls)
    rows = []
    for function, label in STAGES:
        calls = by_function.get(function, [])
        if not calls:
            continue
        first = min(c.started for c in calls)
        last = max(c.finished for c in calls)
        rows.append(
            {
                "stage": label,
                "function": function,
                "invocations": len(calls),
                "failed": sum(1 for c in calls if not c.ok),
                "start_seconds": round(max(0.0, first - started), 3),
                "end_seconds": round(max(0.0, last - started), 3),
                "wall_seconds": round(last - first, 3),
                "busy_seconds": round(sum(c.finished - c.started for c in calls), 3),
                "in_worker": sum(1 for c in calls if c.in_worker),  # invocations a function worker ran
            }
        )
    return rows


def templates_used(letters_dir: Path) -> list[dict[str, Any]]:
    """The approved template versions the manifests say were used, with how many pieces each."""
    counts: Counter[tuple[str, str, str, str]] = Counter()
    for manifest in sorted(letters_dir.glob("*/manifest.csv")):
        with manifest.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                counts[
                    (row["template_id"], row["language"], row["template_version"], row["template_sha256"])
                ] += 1
    return [
        {"template_id": t, "language": lang, "version": v, "sha256": h, "pieces": n}
        for (t, lang, v, h), n in sorted(counts.items())
    ]
