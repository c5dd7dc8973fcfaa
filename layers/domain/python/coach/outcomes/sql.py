"""The outcome query: ONE SQL text for DuckDB and Athena (Trino), positional `?` parameters, counts only.

`cohort(client_id, member_id, held_out)` is the campaign's measured members: the lettered members of the clients
whose letters went out and their held-out members. Each engine supplies it in place of `{cohort}` (DuckDB: a
registered table; Athena: a VALUES list). Over the paid claims filled in the window, every cohort member counts once:
`switched` (a fill of a listed alternative, matched by catalog ingredient or name), else `refilled` (a fill of the
event's drug, matched as the audience matches it), else `no_fill`. Counts of disjoint cohorts add up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from coach.models import MarketEvent

OUTCOMES = ("switched", "refilled", "no_fill")
CohortMember = tuple[str, str, bool]  # (client_id, member_id, held_out)
# between alternatives in their one parameter: a character no drug name may hold (models.ShortText)
ALTERNATIVES_SEPARATOR = "\x1f"

OUTCOME_SQL = """
WITH cohort AS (
    {cohort}
),
listed AS (
    SELECT split(?, ',') AS ndcs
),
event_drugs AS (
    SELECT ndc
    FROM drugs
    CROSS JOIN listed l
    WHERE contains(l.ndcs, ndc)
       OR (? <> '' AND lower(trim(ingredient)) = ?)
),
alternatives AS (
    SELECT split(?, chr(31)) AS names
),
alternative_drugs AS (
    SELECT ndc
    FROM drugs
    CROSS JOIN alternatives a
    WHERE ? <> ''
      AND (contains(a.names, lower(trim(ingredient))) OR contains(a.names, lower(trim(name))))
),
fills AS (
    SELECT c.member_id,
           max(CASE WHEN ad.ndc IS NOT NULL THEN 1 ELSE 0 END) AS switched,
           max(CASE WHEN ed.ndc IS NOT NULL OR contains(l.ndcs, c.ndc) THEN 1 ELSE 0 END) AS refilled
    FROM claims c
    CROSS JOIN listed l
    LEFT JOIN event_drugs ed ON c.ndc = ed.ndc
    LEFT JOIN alternative_drugs ad ON c.ndc = ad.ndc
    WHERE lower(trim(c.claim_status)) = 'paid'
      AND c.fill_month BETWEEN ? AND ?
      AND c.fill_date BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)
      AND c.member_id IN (SELECT member_id FROM cohort)
    GROUP BY c.member_id
)
SELECT k.client_id,
       k.held_out,
       count(*) AS members,
       sum(CASE WHEN coalesce(f.switched, 0) = 1 THEN 1 ELSE 0 END) AS switched,
       sum(CASE WHEN coalesce(f.switched, 0) = 0 AND coalesce(f.refilled, 0) = 1 THEN 1 ELSE 0 END) AS refilled,
       sum(CASE WHEN coalesce(f.switched, 0) = 0 AND coalesce(f.refilled, 0) = 0 THEN 1 ELSE 0 END) AS no_fill
FROM cohort k
LEFT JOIN fills f ON f.member_id = k.member_id
GROUP BY k.client_id, k.held_out
ORDER BY k.client_id, k.held_out
"""


@dataclass(frozen=True)
class OutcomeParams:
    """The window is inclusive: [first_day, last_day]. It starts the day after the audience was drawn (when the
    holdout was assigned), so both groups are followed from the same day for the same number of days."""

    ndcs: tuple[str, ...]
    ingredient: str
    alternatives: tuple[str, ...]
    first_day: date
    last_day: date

    @staticmethod
    def for_event(event: MarketEvent, follow_up_days: int) -> OutcomeParams:
        first = event.announced_on + timedelta(days=1)
        return OutcomeParams(
            ndcs=tuple(event.drug.ndcs),
            ingredient=(event.drug.ingredient or "").strip().lower(),
            alternatives=tuple(sorted({a.strip().lower() for a in event.alternatives if a.strip()})),
            first_day=first,
            last_day=first + timedelta(days=follow_up_days - 1),
        )

    def bindings(self) -> list[str]:
        """Positional values, in the order of the `?` placeholders of OUTCOME_SQL."""
        alternatives = ALTERNATIVES_SEPARATOR.join(self.alternatives)
        return [
            ",".join(self.ndcs),
            self.ingredient,
            self.ingredient,
            alternatives,
            alternatives,
            self.first_day.strftime("%Y-%m"),
            self.last_day.strftime("%Y-%m"),
            self.first_day.isoformat(),
            self.last_day.isoformat(),
        ]
