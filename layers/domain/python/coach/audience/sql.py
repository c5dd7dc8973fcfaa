"""The audience query: ONE SQL text for DuckDB and Athena (Trino), positional `?` parameters only.

Bounds are inclusive on both ends: a paid fill on `announced_on - lookback_days + 1` or on `announced_on` counts.
The `fill_month` predicate repeats the date bounds on the partition column so engines read only the partitions
inside the lookback. A member is unreachable when any matching fill is of a sensitive class the playbook does
not allow (privacy first), when not eligible on the effective date, deceased, opted out, or without a usable
mailing address and without a consented email.

A claim matches when its NDC is listed in the event (even an NDC the drug catalog does not know: it then carries the
event's drug name and no sensitive class) or its NDC's catalog ingredient is the event's ingredient (docs/data-contract.md).
Enum values are compared lower-cased and trimmed (`PAID` is `paid`), as the lake check accepts them (docs/data-contract.md).
"""

AUDIENCE_SQL = """
WITH listed AS (
    SELECT split(?, ',') AS ndcs
),
matched_drugs AS (
    SELECT ndc, name, sensitive_class
    FROM drugs
    CROSS JOIN listed l
    WHERE contains(l.ndcs, ndc)
       OR (? <> '' AND lower(trim(ingredient)) = ?)
),
allowed AS (
    SELECT split(?, ',') AS classes
),
fills AS (
    SELECT c.member_id,
           max(c.fill_date) AS last_fill_date,
           max_by(coalesce(d.name, ?), c.fill_date) AS drug_name,
           max(CASE WHEN d.sensitive_class IS NOT NULL AND trim(d.sensitive_class) <> ''
                     AND NOT contains(a.classes, lower(trim(d.sensitive_class))) THEN 1 ELSE 0 END) AS restricted
    FROM claims c
    CROSS JOIN listed l
    LEFT JOIN matched_drugs d ON c.ndc = d.ndc
    CROSS JOIN allowed a
    WHERE lower(trim(c.claim_status)) = 'paid'
      AND c.fill_month BETWEEN ? AND ?
      AND c.fill_date BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)
      AND (d.ndc IS NOT NULL OR contains(l.ndcs, c.ndc))
    GROUP BY c.member_id
)
SELECT m.member_id, m.client_id, m.first_name, m.last_name, m.address_line1, m.address_line2, m.city,
       m.state, m.postal_code, coalesce(nullif(lower(trim(m.language)), ''), 'en') AS language, m.email,
       coalesce(m.email_consent, false) AS email_consent,
       coalesce(nullif(lower(trim(m.preferred_channel)), ''), 'mail') AS preferred_channel,
       coalesce(m.confidential_address, false) AS confidential_address,
       f.drug_name, f.last_fill_date,
       CASE WHEN (m.eligibility_end IS NULL OR m.eligibility_end >= CAST(? AS DATE))
             AND NOT coalesce(m.deceased, false)
             AND NOT coalesce(m.opted_out, false)
             AND f.restricted = 0
             AND ((trim(coalesce(m.address_line1, '')) <> '' AND trim(coalesce(m.city, '')) <> ''
                   AND length(trim(coalesce(m.state, ''))) = 2 AND trim(coalesce(m.postal_code, '')) <> '')
                  OR (trim(coalesce(m.email, '')) <> '' AND coalesce(m.email_consent, false)))
            THEN true ELSE false END AS reachable
FROM fills f
JOIN members m ON m.member_id = f.member_id
ORDER BY m.client_id, m.member_id
"""
