"""The prescriber query on Athena: the one SQL text, bound like the audience query, UNLOADed in parts by the NPI's
last digit and read back from S3 with each prescriber's rows together (never GetQueryResults)."""

from __future__ import annotations

from itertools import groupby

from coach.adapters.athena import sql_literal
from coach.prescribers.sql import PRESCRIBER_SQL

from tests.unit.test_athena_engine import FIXED, FakeS3, athena, engine, gz_lines, params  # noqa: F401

INNER = PRESCRIBER_SQL.strip().rsplit("ORDER BY", 1)[0]


def test_rows_come_back_grouped_by_prescriber_from_the_unloaded_parts(athena):  # noqa: F811
    client, stub = athena
    p = params()
    stub.add_response(
        "start_query_execution",
        {"QueryExecutionId": "q1"},
        {
            # the one SQL text with its placeholders (no value formatted into it), in parts by the NPI's last digit
            "QueryString": (
                "UNLOAD (SELECT *, CASE WHEN length(npi) = 10 THEN substr(npi, 10, 1) ELSE 'none' END AS npi_part "
                f"FROM ({INNER})) TO 's3://results/unload/{p.campaign_id}/prescribers/{FIXED.hex}/' "
                "WITH (format = 'JSON', compression = 'GZIP', partitioned_by = ARRAY['npi_part'])"
            ),
            "WorkGroup": "wg",
            "QueryExecutionContext": {"Database": "db"},
            "ExecutionParameters": [sql_literal(v) for v in p.bindings()],
        },
    )
    stub.add_response(
        "get_query_execution",
        {"QueryExecution": {"Status": {"State": "SUCCEEDED"}}},
        {"QueryExecutionId": "q1"},
    )
    prefix = f"unload/{p.campaign_id}/prescribers/{FIXED.hex}/"
    row = lambda npi, client_id, member_id: {"npi": npi, "client_id": client_id, "member_id": member_id}  # noqa: E731
    s3 = FakeS3(
        {
            # UNLOAD keeps no order, inside a part or across its files
            prefix + "npi_part=3/a.gz": gz_lines(
                [row("1234567893", "C2", "M4"), row("1111111113", "C1", "M9")]
            ),
            prefix + "npi_part=3/b.gz": gz_lines([row("1234567893", "C1", "M1")]),
            prefix + "npi_part=none/a.gz": gz_lines([row("", "C1", "M7")]),
            prefix + "npi_part=9/a.gz": gz_lines([row("1245319599", "C1", "M2")]),
        }
    )
    rows = list(engine(client, s3).prescriber_rows(p))
    groups = {
        npi: [(r["client_id"], r["member_id"]) for r in g] for npi, g in groupby(rows, key=lambda r: r["npi"])
    }
    assert len(groups) == 4, "each prescriber's rows come together"
    assert groups["1234567893"] == [("C1", "M1"), ("C2", "M4")]
    assert groups[""] == [("C1", "M7")] and groups["1245319599"] == [("C1", "M2")]
