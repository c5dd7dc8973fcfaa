"""The brief in report.json, per client: exact (unsuppressed) figures for scripts inside the PBM (docs/brief.md)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from coach.brief.figures import AGE_BANDS, UNKNOWN
from coach.brief.service import load_brief
from coach.ports import NotFound, ObjectStore


def _number(value: object) -> float | int | None:
    if value is None:
        return None
    return float(value) if isinstance(value, Decimal | float) else int(value)  # type: ignore[call-overload]


def report_brief(store: ObjectStore, bucket: str, key: str | None) -> dict[str, Any] | None:
    """{"claims", "plan_paid", "member_paid", "age_bands", "supply_on_hand" (recalls), "projected_annual_plan_impact",
    "recommendation": {"id", "reason"}, ...}; None when the campaign's playbook made no brief."""
    try:
        brief = load_brief(store, bucket, key)
    except NotFound:
        return None
    if brief is None:
        return None
    f = brief.figures
    row: dict[str, Any] = {
        "affected": f.affected,
        "claims": f.claims,
        "plan_paid": _number(f.plan_paid),
        "member_paid": _number(f.member_paid),
        "avg_days_supply": _number(f.avg_days_supply),
        "age_bands": {band: f.age_bands[band] for band in AGE_BANDS},
        "age_unknown": f.age_bands[UNKNOWN],
        "projected_annual_plan_impact": _number(brief.values.get("projected_annual_plan_impact")),
        "recommendation": {
            "id": brief.recommendation.id,
            "title": brief.recommendation.title,
            "reason": brief.recommendation.reason,
        },
        "alternatives": [a.id for a in brief.alternatives],
        "unavailable": brief.unavailable,
    }
    if brief.event_type == "recall":
        row |= {"supply_on_hand": f.supply_on_hand, "filled_recently": f.filled_recently}
    if brief.event_type == "formulary_change":
        row |= {"disrupted": brief.values["disrupted"], "transition_fills": brief.values["transition_fills"]}
    return row
