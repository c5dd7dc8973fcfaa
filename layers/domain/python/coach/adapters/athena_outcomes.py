"""The outcome query on Athena: the cohort inlined as a VALUES list (ExecutionParameters hold 1,024 characters at
most), a few thousand members per query so the query text stays far under Athena's 262,144-byte limit; the counts
of the chunks (disjoint sets of members) are added up. Results are a handful of count rows: GetQueryResults."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from coach.outcomes.sql import OUTCOME_SQL, OUTCOMES, CohortMember, OutcomeParams

if TYPE_CHECKING:
    from coach.adapters.athena import AthenaClaimsEngine

MEMBERS_PER_QUERY = 4_000  # about 40 bytes per member in VALUES: ~160 KB of query text


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def cohort_values(chunk: Sequence[CohortMember]) -> str:
    rows = ", ".join(
        f"({_literal(client)}, {_literal(member)}, {'true' if held else 'false'})"
        for client, member, held in chunk
    )
    return f"SELECT * FROM (VALUES {rows}) AS t(client_id, member_id, held_out)"


def outcome_counts(
    engine: AthenaClaimsEngine, params: OutcomeParams, cohort: Sequence[CohortMember]
) -> list[dict]:
    totals: dict[tuple[str, bool], Counter[str]] = {}
    for start in range(0, len(cohort), MEMBERS_PER_QUERY):
        query = OUTCOME_SQL.format(cohort=cohort_values(cohort[start : start + MEMBERS_PER_QUERY]))
        execution_id = engine._start(query, params.bindings())
        engine._wait(execution_id)
        pages = engine.athena.get_paginator("get_query_results").paginate(QueryExecutionId=execution_id)
        header: list[str] | None = None
        for page in pages:
            for row in page["ResultSet"]["Rows"]:
                values = [cell.get("VarCharValue") for cell in row["Data"]]
                if header is None:
                    header = [str(v) for v in values]
                    continue
                record = dict(zip(header, values, strict=True))
                group = (str(record["client_id"]), str(record["held_out"]).lower() == "true")
                counts = totals.setdefault(group, Counter())
                for name in ("members", *OUTCOMES):
                    counts[name] += int(record[name] or 0)
    return [
        {"client_id": client, "held_out": held, **{name: counts[name] for name in ("members", *OUTCOMES)}}
        for (client, held), counts in sorted(totals.items())
    ]
