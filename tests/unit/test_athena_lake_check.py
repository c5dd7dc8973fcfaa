"""On AWS the lake's data-quality rules run on Athena as the first step of the audience stage: one query per rule
(counts only), the same rule SQL as DuckDB; any error fails the campaign before any email, and the operator alert
lists the problems (tables, columns, counts; never a value)."""

from __future__ import annotations

import gzip
import json
from datetime import date
from typing import Any

import pytest
from botocore.stub import ANY
from coach.adapters.athena import RULES_AT_ONCE, lake_checks, sql_literal
from coach.adapters.memory import MemoryObjectStore
from coach.audience.service import build_audience
from coach.intake import plan_campaign
from coach.lake_rules import LakeCheckFailed
from coach.notices import alert_from_status_change

from tests.unit import test_athena_engine as stubbed
from tests.unit.test_athena_engine import CLARITIN, FIXED, FakeS3, engine, gz_lines


@pytest.fixture
def athena(monkeypatch):
    """The stubbed Athena client of test_athena_engine (its fixture, called as a plain generator)."""
    # pytest sets __wrapped__ on its fixture objects (functools.update_wrapper) but does not declare it.
    yield from stubbed.athena.__wrapped__(monkeypatch)  # type: ignore[attr-defined]


CHECKS = lake_checks()  # (rule, its Trino SQL): coach.lake_rules' and the prescribers table's
ANNOUNCED = date(2002, 11, 27)
CLIENTS_KEY = f"unload/_clients/{FIXED.hex}/part-0.gz"


def expect_rules(stub, counts: dict[tuple[str, str, str], int]) -> list[dict]:
    """Every rule started (its Athena SQL, the event date bound only where the rule needs it), ten at a time, then
    one count each."""
    started = []
    for wave in range(0, len(CHECKS), RULES_AT_ONCE):
        batch = [(index, rule, sql) for index, (rule, sql) in enumerate(CHECKS)][wave : wave + RULES_AT_ONCE]
        for index, rule, sql in batch:
            params = {
                "QueryString": sql,
                "WorkGroup": "wg",
                "QueryExecutionContext": {"Database": "db"},
            }
            if rule.needs_event:
                params["ExecutionParameters"] = [sql_literal(ANNOUNCED.isoformat())]
            stub.add_response("start_query_execution", {"QueryExecutionId": f"r{index}"}, params)
            started.append(params)
        for index, rule, _ in batch:
            stub.add_response(
                "get_query_execution",
                {"QueryExecution": {"Status": {"State": "SUCCEEDED"}}},
                {"QueryExecutionId": f"r{index}"},
            )
            count = str(counts.get((rule.name, rule.table, rule.column), 0))
            stub.add_response(
                "get_query_results",
                {
                    "ResultSet": {
                        "Rows": [{"Data": [{"VarCharValue": "_col0"}]}, {"Data": [{"VarCharValue": count}]}]
                    }
                },
                {"QueryExecutionId": f"r{index}", "MaxResults": 2},
            )
    return started


def expect_clients_unload(stub):
    stub.add_response(
        "start_query_execution",
        {"QueryExecutionId": "c1"},
        {"QueryString": ANY, "WorkGroup": "wg", "QueryExecutionContext": {"Database": "db"}},
    )
    stub.add_response(
        "get_query_execution",
        {"QueryExecution": {"Status": {"State": "SUCCEEDED"}}},
        {"QueryExecutionId": "c1"},
    )


def clients_s3(elections=None) -> FakeS3:
    row = {
        "client_id": "C1",
        "name": "One",
        "account_team_emails": ["a@pbm.example"],
        "client_contact_emails": [],
        "elections": elections or {},
    }
    return FakeS3({CLIENTS_KEY: gz_lines([row])})


def test_every_rule_is_one_athena_query_in_the_shared_sql(athena):
    client, stub = athena
    started = expect_rules(stub, {})
    expect_clients_unload(stub)
    assert engine(client, clients_s3()).lake_problems(ANNOUNCED) == []
    texts = [s["QueryString"] for s in started]
    assert all(t.startswith("SELECT ") and "count(*)" in t for t in texts)
    assert any("regexp_like(ndc, '^([0-9]{11})$')" in t for t in texts)  # Trino's regex function
    # the rules comparing the lake with the event: fills after announced_on, births after it (the brief's age)
    assert sum("ExecutionParameters" in s for s in started) == 2
    # the prescribers table's rules too, as `coach lake check` runs them (an empty prescribers/ counts nothing)
    prescribers = [t for t in texts if "FROM prescribers" in t]
    assert len(prescribers) == 7
    assert any("regexp_like(npi, '^[0-9]{10}$')" in t for t in prescribers)  # the NPI check digit, in Trino
    # Trino's regexp_replace replaces every match (DuckDB's needs the 'g' option)
    assert any("regexp_replace(coalesce(fax, ''), '[^0-9]', '')" in t for t in prescribers)
    assert not any("regexp_matches" in t or "'g')" in t for t in texts)  # nothing of DuckDB's dialect


def problems_counted(athena, counts, elections=None):
    """The lake check's problems when Athena counts `counts` rows for these (rule, table, column)s."""
    client, stub = athena
    expect_rules(stub, counts)
    expect_clients_unload(stub)
    return engine(client, clients_s3(elections)).lake_problems(ANNOUNCED)


def test_counted_rows_become_problems_naming_table_and_column(athena):
    problems = problems_counted(
        athena,
        {
            ("enum", "claims", "claim_status"): 12,
            ("key", "members", "member_id"): 2,
            ("suspicious", "claims", "ndc"): 5,
        },
        elections={"Recall": "sometimes"},
    )
    found = sorted((p.severity, p.where, p.column, p.rows) for p in problems)
    assert found == [
        ("error", "db.claims", "claim_status", 12),
        ("error", "db.clients", "elections", 1),
        ("error", "db.members", "member_id", 2),
        ("warning", "db.claims", "ndc", 5),
    ]


def test_the_prescribers_tables_problems_are_found_on_aws_as_locally(athena):
    """A duplicated NPI refuses the lake (an error, as `coach lake check` says); invalid NPIs and prescribers
    without a usable address are warnings, counted."""
    problems = problems_counted(
        athena,
        {
            ("key", "prescribers", "npi"): 4,
            ("npi", "prescribers", "npi"): 9,
            ("address", "prescribers", "address_line1"): 30,
        },
    )
    found = sorted((p.severity, p.where, p.column, p.rows) for p in problems)
    assert found == [
        ("error", "db.prescribers", "npi", 4),
        ("warning", "db.prescribers", "address_line1", 30),
        ("warning", "db.prescribers", "npi", 9),
    ]
    [error] = [p for p in problems if p.severity == "error"]
    assert error.problem == "a key that another row has too"


def test_an_error_fails_the_audience_stage_before_the_audience_query(athena):
    client, stub = athena
    expect_rules(stub, {("reference", "members", "client_id"): 3})
    expect_clients_unload(stub)
    campaign = plan_campaign(
        CLARITIN
    ).campaign  # no audience UNLOAD is stubbed: querying it would fail the test
    with pytest.raises(LakeCheckFailed) as caught:
        build_audience(
            campaign,
            engine=engine(client, clients_s3()),
            store=MemoryObjectStore(),
            data_bucket="d",
            batch_size=10,
        )
    message = str(caught.value)
    assert "db.members: column 'client_id': 3 rows: a client that clients/ does not list" in message
    assert "\n" not in message


def test_the_operator_alert_lists_the_lake_problems_and_nothing_else_of_a_cause():
    problems = ["error: db.members: column 'client_id': 3 rows: a client that clients/ does not list"]
    cause = json.dumps(
        {
            "errorType": "LakeCheckFailed",
            "errorMessage": "the lake breaks the data contract (1 error): " + problems[0],
        }
    )
    event: dict[str, Any] = {
        "detail-type": "Step Functions Execution Status Change",
        "detail": {
            "status": "FAILED",
            "name": "camp",
            "input": '{"campaign_id": "camp"}',
            "error": "LakeCheckFailed",
            "cause": cause,
        },
    }
    assert alert_from_status_change(event, ["FindAudience"], None).lake_problems == problems
    event["detail"] |= {"error": "OSError", "cause": json.dumps({"errorMessage": "Ada Lovelace, 12 Main St"})}
    assert alert_from_status_change(event, ["FindAudience"], None).lake_problems == []


def test_the_alert_email_shows_the_problems():
    from coach.adapters.memory import MemoryMailer
    from coach.models import Notice
    from coach.notices import send_notice

    mailer = MemoryMailer()
    notice = Notice(
        campaign_id="camp",
        kind="operator_alert",
        stage="audience",
        error="LakeCheckFailed",
        lake_problems=["error: db.claims: column 'claim_status': 12 rows: a value outside the allowed ones"],
    )
    send_notice(
        notice,
        mailer=mailer,
        objects=MemoryObjectStore(),
        data_bucket="d",
        sender="s@x.example",
        operator_email="ops@x.example",
    )
    [sent] = mailer.sent
    assert (
        "nothing was sent to anyone" in sent.text
        and "column 'claim_status': 12 rows: a value outside" in sent.text
    )


class LakeListingS3(FakeS3):
    """S3 holding the clients UNLOAD and the lake's claims folders (listed with a delimiter, as S3 does)."""

    def __init__(self, objects, lake_keys):
        super().__init__(objects)
        self.lake_keys = lake_keys

    def get_paginator(self, name):
        inner, lake_keys = super().get_paginator(name), self.lake_keys

        class Paginator:
            def paginate(self, Bucket, Prefix, Delimiter=None):
                if Delimiter is None:
                    yield from inner.paginate(Bucket=Bucket, Prefix=Prefix)
                    return
                assert Bucket == "pbm-lake"
                below = [k[len(Prefix) :] for k in lake_keys if k.startswith(Prefix)]
                yield {
                    "CommonPrefixes": [
                        {"Prefix": Prefix + p}
                        for p in sorted({k.split("/")[0] + "/" for k in below if "/" in k})
                    ],
                    "Contents": [{"Key": Prefix + k, "Size": 10} for k in below if "/" not in k],
                }

        return Paginator()


def test_claims_folders_athena_would_ignore_are_errors(athena):
    client, stub = athena
    expect_rules(stub, {})
    expect_clients_unload(stub)
    lake_keys = [
        "extracts/claims/fill_month=2002-10/part-0.parquet",
        "extracts/claims/fill_month=2002-9/part-0.parquet",
        "extracts/claims/loose.parquet",
    ]
    s3 = LakeListingS3(clients_s3().objects, lake_keys)
    checked = stubbed.AthenaClaimsEngine(
        workgroup="wg",
        database="db",
        output_s3_uri="s3://results/unload",
        lake_uri="s3://pbm-lake/extracts",
        athena=client,
        s3=s3,
        sleep=lambda seconds: None,
    )
    problems = checked.lake_problems(ANNOUNCED)
    assert [(p.where, p.column) for p in problems] == [
        ("s3://pbm-lake/extracts/claims/fill_month=2002-9/", "fill_month"),
        ("s3://pbm-lake/extracts/claims/", "fill_month"),
    ]
    assert all(p.is_error for p in problems)


def test_branding_cells_athena_reads_are_checked_naming_the_client(athena):
    client, stub = athena
    expect_rules(stub, {})
    expect_clients_unload(stub)
    s3 = clients_s3()
    rows = [json.loads(line) for line in gzip.decompress(s3.objects[CLIENTS_KEY]).decode().splitlines()]
    s3.objects[CLIENTS_KEY] = gz_lines([rows[0] | {"member_services_phone": "call us", "logo": "/etc/x.png"}])
    problems = [p.line() for p in engine(client, s3).lake_problems(ANNOUNCED)]
    assert problems == [
        "error: db.clients: column 'member_services_phone': client C1: not a phone number (digits, spaces, + ( ) . -)",
        "error: db.clients: column 'logo': client C1: not a .png, .jpg or .jpeg file inside the lake "
        "(or an s3:// location)",
    ]
