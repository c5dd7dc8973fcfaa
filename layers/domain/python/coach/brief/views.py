"""The brief as each audience sees it: account teams exact (coach.audience.privacy.exact_count), clients with every
count of 1–10 members as "fewer than 11", every sum over fewer than 11 members not shown, and breakdowns
complementarily suppressed (coach.brief.suppression). Strings only: what a page, an email or a PDF prints."""

from __future__ import annotations

from datetime import timedelta
from html import escape

from coach.audience.privacy import SMALL_CELL, client_facing_count, exact_count
from coach.brief.figures import AGE_BANDS, UNKNOWN
from coach.brief.format import exact, exact_values, usd
from coach.brief.policy import FIGURES, SHARE_FIGURES
from coach.brief.projection import Brief, fill_reason
from coach.brief.suppression import NOT_SHOWN, suppress_row

COUNT_FIGURES = frozenset({"affected", "supply_on_hand", "filled_recently", "disrupted", "transition_fills"})
FEW = f"not shown (fewer than {SMALL_CELL + 1} members)"
LABELS = {
    "affected": "Members affected",
    "claims": "Paid claims in the lookback",
    "plan_paid": "Plan paid in the lookback",
    "member_paid": "Members paid in the lookback",
    "avg_days_supply": "Average days' supply",
    "plan_paid_annual": "Plan paid, 12 months",
    "member_paid_annual": "Members paid, 12 months",
    "plan_saving_annual": "Plan saving, 12 months",
    "member_otc_cost_annual": "Members' cost over the counter, 12 months",
    "projected_annual_plan_impact": "Projected change in plan spend, next 12 months",
    "supply_on_hand": "Members with supply on hand at the announcement",
    "days_on_hand": "Days of supply on hand",
    "filled_recently": "Members who filled in the last 30 days",
    "disrupted": "Members disrupted",
    "transition_fills": "Transition fills needed",
}
EVENT_FIGURES = {
    "otc_switch": ("plan_saving_annual", "member_otc_cost_annual", "projected_annual_plan_impact"),
    "patent_expiry": ("plan_saving_annual", "projected_annual_plan_impact"),
    "generic_launch": ("plan_saving_annual", "projected_annual_plan_impact"),
    "recall": ("supply_on_hand", "days_on_hand", "filled_recently", "projected_annual_plan_impact"),
    "formulary_change": (
        "disrupted",
        "transition_fills",
        "plan_saving_annual",
        "projected_annual_plan_impact",
    ),
    "new_drug": (),
}
BREAKDOWNS = (
    ("age_bands", "Age on the announcement date"),
    ("states", "State"),
    ("languages", "Language"),
    ("channels", "Preferred channel"),
)


def _basis(brief: Brief, name: str) -> int:
    """How many members a figure is computed from (a sum over 1–10 members is not shown to a client)."""
    f = brief.figures
    if name in ("days_on_hand",) or (name == "projected_annual_plan_impact" and brief.event_type == "recall"):
        return f.supply_on_hand
    if name == "projected_annual_plan_impact" and brief.event_type == "formulary_change" and f.active:
        return min(f.affected, f.active)
    return f.affected


def _plain(cell: str) -> bool:
    """A cell shown as its number (not "fewer than 11", not "not shown")."""
    return cell != NOT_SHOWN and not cell.startswith("fewer")


def client_values(brief: Brief) -> dict[str, str]:
    ages = age_row(brief, client=True) or {}
    shown = {}
    for name in FIGURES:
        value = brief.values.get(name)
        if value is None:
            shown[name] = "not known"
        elif name in COUNT_FIGURES:
            shown[name] = client_facing_count(int(value))
        elif name in SHARE_FIGURES:
            band = "65+" if name == "share_65_plus" else "0-17"  # a share of a hidden cell would reveal it
            known = _plain(ages.get(band, NOT_SHOWN)) and _plain(ages.get(UNKNOWN, "0"))
            shown[name] = exact(name, value) if known else NOT_SHOWN
        elif 0 < _basis(brief, name) <= SMALL_CELL:
            shown[name] = FEW
        else:
            shown[name] = exact(name, value)
    return shown


def age_row(brief: Brief, *, client: bool) -> dict[str, str] | None:
    return breakdown(brief, "age_bands", client=client)


def breakdown(brief: Brief, field: str, *, client: bool) -> dict[str, str] | None:
    cells: dict[str, int] = getattr(brief.figures, field)
    if field == "age_bands":
        cells = {band: cells[band] for band in (*AGE_BANDS, UNKNOWN) if band != UNKNOWN or cells[band]}
    if not client:
        return {name: exact_count(count) for name, count in cells.items()}
    return suppress_row(cells, brief.figures.affected)


def view(brief: Brief, *, client: bool) -> dict:
    """Everything a page, an email or the PDF prints of the brief, as this audience may see it (strings only)."""
    shown = client_values(brief) if client else exact_values(brief.values)
    rows = [(LABELS[name], shown[name]) for name in ("affected", "claims", "plan_paid", "member_paid")]
    rows += [(LABELS["avg_days_supply"], shown["avg_days_supply"])]
    rows += [(LABELS[name], shown[name]) for name in EVENT_FIGURES.get(brief.event_type, ())]
    return {
        "client_name": brief.client_name,
        "drug_name": brief.drug_name,
        "event_type": brief.event_type,
        "lookback": f"{brief.announced_on - timedelta(days=brief.lookback_days - 1):%B %-d, %Y} to {brief.announced_on:%B %-d, %Y}",
        "rows": rows,
        "breakdowns": [(title, breakdown(brief, field, client=client)) for field, title in BREAKDOWNS],
        "headline": {
            "affected": shown["affected"],
            "plan_paid": shown["plan_paid"],
            "impact": shown["projected_annual_plan_impact"],
            "recommendation": brief.recommendation.title,
        },
        "recommendation": brief.recommendation.title,
        "reason": fill_reason(brief.recommendation.reason_template, shown),
        "alternatives": [a.title for a in brief.alternatives],
        "unavailable": list(brief.unavailable),
        "assumptions": _assumptions(brief),
        "chart_svg": age_chart_svg(brief, client=client),
    }


def _assumptions(brief: Brief) -> list[str]:
    notes = [
        "12-month figures are the lookback's (365 days)."
        if brief.lookback_days == 365
        else f"12-month figures scale the {brief.lookback_days}-day lookback to 365 days."
    ]
    if brief.otc_price_per_30_days is not None:
        notes.append(f"Over the counter, 30 days' supply costs {usd(brief.otc_price_per_30_days)}.")
    if brief.generic_discount is not None:
        notes.append(f"The generic is expected to cost {brief.generic_discount:.0%} less.")
    return notes


def age_chart_svg(brief: Brief, *, client: bool) -> str:
    """A small bar chart of the age bands (inline SVG); a hidden cell draws no bar and reads as the table does."""
    cells = brief.figures.age_bands
    row = breakdown(brief, "age_bands", client=client) or {}
    bands = [b for b in (*AGE_BANDS, UNKNOWN) if b in row]
    drawn = {b: cells[b] for b in bands if _plain(row[b])}
    top = max(drawn.values(), default=0) or 1
    width, bar_h, gap, label_w = 360, 18, 8, 70
    height = len(bands) * (bar_h + gap) + gap
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="Affected members by age band">'
    ]
    for index, band in enumerate(bands):
        y = gap + index * (bar_h + gap)
        length = int((width - label_w - 110) * drawn.get(band, 0) / top)
        parts.append(f'<text x="0" y="{y + 13}" font-size="12" fill="#1a1a1a">{escape(band)}</text>')
        if band in drawn:
            parts.append(
                f'<rect x="{label_w}" y="{y}" width="{max(length, 1)}" height="{bar_h}" fill="#0a3069"/>'
            )
        parts.append(
            f'<text x="{label_w + length + 6}" y="{y + 13}" font-size="12" fill="#424a53">{escape(row[band])}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
