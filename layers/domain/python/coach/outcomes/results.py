"""The measured outcome of one group and the comparison of two: counts, rates, the difference and its interval.
Counts only: no member appears here."""

from __future__ import annotations

from typing import Any

from coach.outcomes.sql import OUTCOMES
from coach.outcomes.stats import difference

GROUPS = ("lettered", "held_out")


def group_figures(counts: dict[str, int] | None) -> dict[str, Any]:
    """{members, switched, refilled, no_fill, rates: {outcome: share of members}} (rates None for no member)."""
    counts = counts or {}
    members = int(counts.get("members", 0))
    figures: dict[str, Any] = {"members": members, **{o: int(counts.get(o, 0)) for o in OUTCOMES}}
    figures["rates"] = {o: (figures[o] / members if members else None) for o in OUTCOMES}
    return figures


def compare(lettered: dict[str, Any], held_out: dict[str, Any]) -> dict[str, Any]:
    """Per outcome: lettered rate minus held-out rate with its 95% interval (None without both groups)."""
    result: dict[str, Any] = {}
    for outcome in OUTCOMES:
        if not lettered["members"] or not held_out["members"]:
            result[outcome] = None
            continue
        d = difference(lettered[outcome], lettered["members"], held_out[outcome], held_out["members"])
        result[outcome] = {
            "difference": round(d.difference, 6),
            "ci_low": round(d.low, 6),
            "ci_high": round(d.high, 6),
            "method": d.method,
        }
    return result


def summarise(client: dict[str, Any], rows: list[dict]) -> dict[str, Any]:
    """One client's outcome entry from the query's rows for that client (one per group present)."""
    by_group = {bool(row["held_out"]): row for row in rows}
    lettered, held_out = group_figures(by_group.get(False)), group_figures(by_group.get(True))
    return {**client, "lettered": lettered, "held_out": held_out, "difference": compare(lettered, held_out)}


def add_up(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The campaign's totals over the measured clients, compared the same way."""
    totals = {
        group: group_figures({name: sum(e[group][name] for e in entries) for name in ("members", *OUTCOMES)})
        for group in GROUPS
    }
    return {**totals, "difference": compare(totals["lettered"], totals["held_out"])}
