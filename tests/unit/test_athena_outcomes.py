"""The outcome query on Athena: the cohort inlined a chunk at a time (quotes doubled), the chunks' counts added up."""

from __future__ import annotations

from datetime import date

import boto3
import pytest
from botocore.stub import ANY, Stubber
from coach.adapters import athena_outcomes
from coach.adapters.athena import AthenaClaimsEngine, sql_literal
from coach.outcomes.sql import OutcomeParams

PARAMS = OutcomeParams(
    ndcs=("11523716001",),
    ingredient="loratadine",
    alternatives=("cetirizine",),
    first_day=date(2002, 11, 28),
    last_day=date(2003, 2, 25),
)
HEADER = ["client_id", "held_out", "members", "switched", "refilled", "no_fill"]


def result_rows(*rows):
    return {
        "ResultSet": {"Rows": [{"Data": [{"VarCharValue": str(v)} for v in row]} for row in (HEADER, *rows)]}
    }


def test_chunks_of_the_cohort_are_counted_and_added_up(monkeypatch):
    monkeypatch.setattr(athena_outcomes, "MEMBERS_PER_QUERY", 2)
    client = boto3.client("athena", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    queries: list[str] = []
    with Stubber(client) as stub:
        for number, rows in enumerate(
            [
                [("C1", "false", 1, 1, 0, 0), ("C1", "true", 1, 0, 1, 0)],
                [("C1", "false", 1, 0, 0, 1)],
            ]
        ):
            execution = f"q{number}"
            stub.add_response(
                "start_query_execution",
                {"QueryExecutionId": execution},
                {
                    "QueryString": ANY,
                    "WorkGroup": "wg",
                    "QueryExecutionContext": {"Database": "db"},
                    "ExecutionParameters": [sql_literal(v) for v in PARAMS.bindings()],
                },
            )
            stub.add_response(
                "get_query_execution",
                {"QueryExecution": {"Status": {"State": "SUCCEEDED"}}},
                {"QueryExecutionId": execution},
            )
            stub.add_response("get_query_results", result_rows(*rows), {"QueryExecutionId": execution})
        original = client.start_query_execution

        def recording(**kwargs):
            queries.append(kwargs["QueryString"])
            return original(**kwargs)

        monkeypatch.setattr(client, "start_query_execution", recording)
        engine = AthenaClaimsEngine(
            workgroup="wg", database="db", output_s3_uri="s3://r/u", athena=client, sleep=lambda s: None
        )
        counts = engine.outcome_counts(
            PARAMS, [("C1", "M1", False), ("C1", "M'2", True), ("C1", "M3", False)]
        )
        stub.assert_no_pending_responses()
    assert counts == [
        {"client_id": "C1", "held_out": False, "members": 2, "switched": 1, "refilled": 0, "no_fill": 1},
        {"client_id": "C1", "held_out": True, "members": 1, "switched": 0, "refilled": 1, "no_fill": 0},
    ]
    assert (
        "('C1', 'M''2', true)" in queries[0] and "'M3'" in queries[1]
    )  # a quote in an id is doubled, never SQL
    assert all("{cohort}" not in q and q.count("?") == len(PARAMS.bindings()) for q in queries)


@pytest.mark.parametrize("alternatives", [(), ("cetirizine", "fexofenadine")])
def test_the_bindings_match_the_placeholders(alternatives):
    params = OutcomeParams(("1",), "x", alternatives, date(2003, 1, 1), date(2003, 3, 31))
    from coach.outcomes.sql import OUTCOME_SQL

    assert OUTCOME_SQL.count("?") == len(params.bindings())
