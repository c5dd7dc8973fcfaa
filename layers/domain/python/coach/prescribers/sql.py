"""The prescriber query: ONE SQL text for DuckDB and Athena, positional `?` parameters only, bound in the very
order of the audience query (coach.audience.engine.AudienceParams.bindings, with the prescriber policy's allowed
sensitive classes): the same matching claims, the same lookback, the same partition bounds.

One row per affected member who may appear on a notice: eligible on the effective date, not deceased, no matching
fill of a sensitive class the policy does not allow. The member's most recent matching paid claim (latest
fill_date, then the largest claim_id) names the prescriber, the drug and the last fill date. The prescriber
columns come from prescribers/ when it lists the NPI (`listed`). Ordered by NPI so a plan streams one
prescriber at a time.
"""

PRESCRIBER_SQL = """
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
           max_by(coalesce(d.name, ?), CAST(c.fill_date AS VARCHAR) || '|' || c.claim_id) AS drug_name,
           max_by(coalesce(trim(c.prescriber_npi), ''), CAST(c.fill_date AS VARCHAR) || '|' || c.claim_id)
               AS prescriber_npi,
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
SELECT f.prescriber_npi AS npi, m.client_id, m.member_id, m.first_name, m.last_name, m.birth_date,
       f.drug_name, f.last_fill_date,
       p.npi IS NOT NULL AS listed, p.name AS prescriber_name, p.address_line1, p.address_line2, p.city,
       p.state, p.postal_code, p.fax, coalesce(p.accepts_fax, false) AS accepts_fax,
       coalesce(p.accepts_mail, false) AS accepts_mail
FROM fills f
JOIN members m ON m.member_id = f.member_id
LEFT JOIN prescribers p ON p.npi = f.prescriber_npi AND f.prescriber_npi <> ''
WHERE (m.eligibility_end IS NULL OR m.eligibility_end >= CAST(? AS DATE))
  AND NOT coalesce(m.deceased, false)
  AND f.restricted = 0
ORDER BY f.prescriber_npi, m.client_id, m.member_id
"""
