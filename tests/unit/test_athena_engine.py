"""The Athena adapter: one parameterised SQL, throttling retried, failures carry Athena's reason, results read
from the UNLOAD files in S3 (never GetQueryResults)."""

from __future__ import annotations

import gzip
import io
import json
import uuid

import boto3
import pytest
from botocore.stub import ANY, Stubber
from coach.adapters.athena import AthenaClaimsEngine, sql_literal
from coach.audience.engine import AudienceParams, AudienceQueryFailed
from coach.audience.sql import AUDIENCE_SQL
from coach.intake import plan_campaign

from tests.unit.test_intake import CLARITIN, event

FIXED = uuid.UUID("00000000-0000-0000-0000-000000000001")


class FakeS3:
    """Just enough S3 for reading UNLOAD output."""

    def __init__(self, objects: dict[str, bytes]):
        self.objects = objects

    def get_paginator(self, name):
        assert name == "list_objects_v2"
        objects = self.objects

        class Paginator:
            def paginate(self, Bucket, Prefix):
                yield {
                    "Contents": [
                        {"Key": k, "Size": len(v)} for k, v in objects.items() if k.startswith(Prefix)
                    ]
                }

        return Paginator()

    def get_object(self, Bucket, Key):
        return {"Body": io.BytesIO(self.objects[Key])}


def gz_lines(rows):
    return gzip.compress("\n".join(json.dumps(r) for r in rows).encode())


@pytest.fixture
def athena(monkeypatch):
    monkeypatch.setattr(uuid, "uuid4", lambda: FIXED)
    client = boto3.client("athena", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()


def params(raw=CLARITIN):
    return AudienceParams.for_campaign(plan_campaign(raw).campaign)


def expect_query(stub, states=("RUNNING", "SUCCEEDED"), expected_parameters=ANY, reason=None):
    stub.add_response(
        "start_query_execution",
        {"QueryExecutionId": "q1"},
        {
            "QueryString": ANY,
            "WorkGroup": "wg",
            "QueryExecutionContext": {"Database": "db"},
            "ExecutionParameters": expected_parameters,
        },
    )
    for state in states:
        status = {"State": state}
        if reason and state == "FAILED":
            status["StateChangeReason"] = reason
        stub.add_response(
            "get_query_execution", {"QueryExecution": {"Status": status}}, {"QueryExecutionId": "q1"}
        )


def engine(client, s3):
    return AthenaClaimsEngine(
        workgroup="wg",
        database="db",
        output_s3_uri="s3://results/unload",
        athena=client,
        s3=s3,
        sleep=lambda seconds: None,
    )


def test_audience_is_unloaded_and_read_back_from_s3_grouped_by_client(athena):
    client, stub = athena
    p = params()
    expect_query(stub, expected_parameters=[sql_literal(v) for v in p.bindings()])
    prefix = f"unload/{p.campaign_id}/{FIXED.hex}/"
    s3 = FakeS3(
        {
            prefix + "client_id=C2/part-0.gz": gz_lines([{"member_id": "M3", "reachable": True}]),
            prefix + "client_id=C1/part-0.gz": gz_lines(
                [{"member_id": "M1", "reachable": True}, {"member_id": "M2", "reachable": False}]
            ),
        }
    )
    rows = list(engine(client, s3).audience_rows(p))
    assert [(r["client_id"], r["member_id"]) for r in rows] == [("C1", "M1"), ("C1", "M2"), ("C2", "M3")]


def test_the_query_text_is_the_one_sql_with_placeholders_only(athena):
    client, stub = athena
    hostile = event(drug={"name": "X", "ingredient": "x' OR 1=1 --"})
    p = params(hostile)
    seen = {}
    stub.add_response(
        "start_query_execution",
        {"QueryExecutionId": "q1"},
        {
            "QueryString": ANY,
            "WorkGroup": "wg",
            "QueryExecutionContext": {"Database": "db"},
            "ExecutionParameters": ANY,
        },
    )
    stub.add_response(
        "get_query_execution",
        {"QueryExecution": {"Status": {"State": "SUCCEEDED"}}},
        {"QueryExecutionId": "q1"},
    )
    client.meta.events.register(
        "provide-client-params.athena.StartQueryExecution", lambda params, **kw: seen.update(params)
    )
    list(engine(client, FakeS3({})).audience_rows(p))
    assert "OR 1=1" not in seen["QueryString"]
    assert AUDIENCE_SQL.strip().rsplit("ORDER BY", 1)[0].strip()[:200] in seen["QueryString"]
    assert (
        "'x'' or 1=1 --'" in seen["ExecutionParameters"]
    )  # the ingredient, lower-cased, as a quoted literal


def test_throttling_is_retried_with_backoff(athena):
    client, stub = athena
    stub.add_client_error("start_query_execution", service_error_code="TooManyRequestsException")
    stub.add_client_error("start_query_execution", service_error_code="ThrottlingException")
    expect_query(stub, states=("SUCCEEDED",))
    assert list(engine(client, FakeS3({})).audience_rows(params())) == []


def test_failed_query_surfaces_athenas_reason(athena):
    client, stub = athena
    expect_query(
        stub,
        states=("RUNNING", "FAILED"),
        reason="COLUMN_NOT_FOUND: line 3:12: Column 'ndc' cannot be resolved",
    )
    with pytest.raises(AudienceQueryFailed, match="Column 'ndc' cannot be resolved"):
        list(engine(client, FakeS3({})).audience_rows(params()))


def test_output_location_must_be_s3():
    with pytest.raises(ValueError, match="s3://"):
        AthenaClaimsEngine(workgroup="wg", database="db", output_s3_uri="/tmp/x")


def expect_unload(stub):
    stub.add_response(
        "start_query_execution",
        {"QueryExecutionId": "q1"},
        {"QueryString": ANY, "WorkGroup": "wg", "QueryExecutionContext": {"Database": "db"}},
    )
    status = {"QueryExecution": {"Status": {"State": "SUCCEEDED"}}}
    stub.add_response("get_query_execution", status, {"QueryExecutionId": "q1"})


def test_clients_carry_their_letterhead_with_the_logo_read_from_the_lake(athena):
    from coach.letters.branding import PBM_BRANDING, BrandingError
    from PIL import Image

    client, stub = athena
    logo = io.BytesIO()
    Image.new("RGB", (300, 100), (0, 90, 160)).save(logo, "PNG")
    base: dict[str, object] = {
        "account_team_emails": [],
        "client_contact_emails": [],
        "elections": {},
        "escalation_email": None,
    }
    rows = [
        base
        | {"client_id": "C1", "name": "One", "plan_name": "Lakeshore Health Plan", "logo": "logos/c1.png"},
        base | {"client_id": "C2", "name": "Two"},
    ]
    s3 = FakeS3(
        {f"unload/_clients/{FIXED.hex}/part-0.gz": gz_lines(rows), "lake/logos/c1.png": logo.getvalue()}
    )
    claims = AthenaClaimsEngine(
        workgroup="wg",
        database="db",
        output_s3_uri="s3://results/unload",
        lake_uri="s3://bucket/lake",
        athena=client,
        s3=s3,
        sleep=lambda seconds: None,
    )
    expect_unload(stub)
    clients = claims.clients()
    assert clients["C2"].branding == PBM_BRANDING
    c1 = clients["C1"].branding
    assert c1 is not None and c1.plan_name == "Lakeshore Health Plan" and c1.logo == logo.getvalue()

    s3.objects["lake/logos/c1.png"] = b"<svg/>"
    expect_unload(stub)
    with pytest.raises(BrandingError, match="client C1: logo logos/c1.png is not a PNG or JPEG image"):
        claims.clients()
