"""The brief query: ONE SQL text for DuckDB and Athena (Trino), positional `?` parameters only, counts and sums.

It matches claims exactly as the audience query does (docs/data-contract.md: a listed NDC, or the catalog's ingredient;
paid; inside the lookback), so its members are the audience's affected members. One row per client and combination
of age band, state, language and channel that has members; every column is a count or a sum, so the client's totals
and each breakdown are sums of these rows (coach.brief.figures): one grouping, twice as fast as grouping sets.
The claims are matched by `ndc IN (the matched NDCs)` rather than a join on every claim of the lookback, so the
engine can drop the other claims before reading their money columns: on 100M claims the brief takes less time
than the audience query (docs/benchmarks.md).
Dates are compared with date_diff and year/month/day, which both engines read the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from coach.audience.engine import AudienceParams

BRIEF_SQL = """
WITH listed AS (
    SELECT split(?, ',') AS ndcs
),
params AS (
    SELECT CAST(? AS DATE) AS announced, CAST(? AS DATE) AS effective, CAST(? AS INTEGER) AS recent_days,
           CAST(? AS INTEGER) AS active_days
),
matched_drugs AS (
    SELECT ndc
    FROM drugs
    CROSS JOIN listed l
    WHERE contains(l.ndcs, ndc)
       OR (? <> '' AND lower(trim(ingredient)) = ?)
),
matched_ndcs AS (
    SELECT ndc FROM matched_drugs
    UNION
    SELECT t.ndc FROM listed l CROSS JOIN UNNEST(l.ndcs) AS t(ndc)
),
fills AS (
    SELECT c.member_id,
           count(*) AS claims,
           sum(c.plan_paid) AS plan_paid,
           count(c.plan_paid) AS plan_paid_claims,
           sum(c.member_paid) AS member_paid,
           count(c.member_paid) AS member_paid_claims,
           sum(c.days_supply) AS days_supply,
           sum(CASE WHEN c.plan_paid IS NOT NULL THEN c.days_supply END) AS priced_days,
           sum(c.quantity) AS quantity,
           count(c.quantity) AS quantity_claims,
           max(c.days_supply - date_diff('day', c.fill_date, p.announced)) AS days_left,
           min(date_diff('day', c.fill_date, p.announced)) AS days_since_fill
    FROM claims c
    CROSS JOIN params p
    WHERE lower(trim(c.claim_status)) = 'paid'
      AND c.fill_month BETWEEN ? AND ?
      AND c.fill_date BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)
      AND c.ndc IN (SELECT ndc FROM matched_ndcs)
    GROUP BY c.member_id
),
affected AS (
    SELECT m.client_id,
           CASE WHEN m.birth_date IS NULL OR m.birth_date > p.announced OR m.birth_date < DATE '1900-01-01'
                THEN 'unknown'
                ELSE CASE WHEN year(p.announced) - year(m.birth_date)
                               - CASE WHEN month(m.birth_date) > month(p.announced)
                                        OR (month(m.birth_date) = month(p.announced)
                                            AND day(m.birth_date) > day(p.announced)) THEN 1 ELSE 0 END < 18
                          THEN '0-17'
                          WHEN year(p.announced) - year(m.birth_date)
                               - CASE WHEN month(m.birth_date) > month(p.announced)
                                        OR (month(m.birth_date) = month(p.announced)
                                            AND day(m.birth_date) > day(p.announced)) THEN 1 ELSE 0 END < 45
                          THEN '18-44'
                          WHEN year(p.announced) - year(m.birth_date)
                               - CASE WHEN month(m.birth_date) > month(p.announced)
                                        OR (month(m.birth_date) = month(p.announced)
                                            AND day(m.birth_date) > day(p.announced)) THEN 1 ELSE 0 END < 65
                          THEN '45-64'
                          ELSE '65+' END
           END AS age_band,
           coalesce(nullif(upper(trim(m.state)), ''), 'unknown') AS state,
           coalesce(nullif(lower(trim(m.language)), ''), 'en') AS language,
           coalesce(nullif(lower(trim(m.preferred_channel)), ''), 'mail') AS channel,
           CASE WHEN m.eligibility_end IS NULL OR m.eligibility_end >= p.effective THEN 1 ELSE 0 END AS eligible,
           f.*
    FROM fills f
    JOIN members m ON m.member_id = f.member_id
    CROSS JOIN params p
)
SELECT a.client_id, a.age_band, a.state, a.language, a.channel,
       count(*) AS members,
       sum(a.claims) AS claims,
       sum(a.plan_paid) AS plan_paid,
       sum(a.plan_paid_claims) AS plan_paid_claims,
       sum(a.member_paid) AS member_paid,
       sum(a.member_paid_claims) AS member_paid_claims,
       sum(a.days_supply) AS days_supply,
       sum(a.priced_days) AS priced_days,
       sum(a.quantity) AS quantity,
       sum(a.quantity_claims) AS quantity_claims,
       sum(CASE WHEN a.days_left > 0 THEN 1 ELSE 0 END) AS supply_on_hand,
       sum(CASE WHEN a.days_left > 0 THEN a.days_left ELSE 0 END) AS days_on_hand,
       sum(CASE WHEN a.days_since_fill < p.recent_days THEN 1 ELSE 0 END) AS filled_recently,
       sum(a.eligible) AS eligible,
       sum(CASE WHEN a.eligible = 1 AND a.days_since_fill < p.active_days THEN 1 ELSE 0 END) AS active
FROM affected a
CROSS JOIN params p
GROUP BY a.client_id, a.age_band, a.state, a.language, a.channel
"""


@dataclass(frozen=True)
class BriefParams:
    """The audience's matching and lookback, the event's dates, and the playbook's windows (days)."""

    audience: AudienceParams
    announced_on: date
    recent_days: int  # a recall: members who filled in these last days (30)
    active_days: (
        int  # a formulary change: members on therapy (a fill in these last days) need a transition fill
    )

    def bindings(self) -> list[str]:
        """Positional values, in the order of the `?` placeholders of BRIEF_SQL."""
        a = self.audience
        return [
            ",".join(a.ndcs),
            self.announced_on.isoformat(),
            a.effective_date.isoformat(),
            str(self.recent_days),
            str(self.active_days),
            a.ingredient,
            a.ingredient,
            a.first_day.strftime("%Y-%m"),
            a.last_day.strftime("%Y-%m"),
            a.first_day.isoformat(),
            a.last_day.isoformat(),
        ]
