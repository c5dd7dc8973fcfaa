"""The brief on Athena: the same BRIEF_SQL, parameters bound (never spliced), UNLOADed and read back from S3, and
its rows (JSON numbers and strings, as Athena writes them) become the same figures."""

from __future__ import annotations

from decimal import Decimal

from botocore.stub import ANY
from coach.adapters.athena import sql_literal
from coach.brief.figures import figures_by_client
from coach.brief.service import brief_params, policy_of
from coach.brief.sql import BRIEF_SQL
from coach.intake import plan_campaign

from tests.unit.test_athena_engine import CLARITIN, FIXED, FakeS3, athena, engine, gz_lines  # noqa: F401

TOTAL = {
    "client_id": "C1",
    "age_band": "18-44",
    "state": "IL",
    "language": "en",
    "channel": "mail",
    "members": 12,
    "claims": 30,
    "plan_paid": "1234.50",
    "plan_paid_claims": 30,
    "member_paid": 300,
    "member_paid_claims": 30,
    "days_supply": 900,
    "priced_days": 900,
    "quantity": None,
    "quantity_claims": 0,
    "supply_on_hand": 5,
    "days_on_hand": 60,
    "filled_recently": 4,
    "eligible": 11,
    "active": 9,
}


def test_the_brief_is_one_bound_query_unloaded_and_read_back(athena):  # noqa: F811 (the fixture)
    client, stub = athena
    campaign = plan_campaign(CLARITIN).campaign
    params = brief_params(campaign, policy_of(campaign))  # type: ignore[arg-type]
    seen: dict = {}
    stub.add_response(
        "start_query_execution",
        {"QueryExecutionId": "q1"},
        {
            "QueryString": ANY,
            "WorkGroup": "wg",
            "QueryExecutionContext": {"Database": "db"},
            "ExecutionParameters": [sql_literal(v) for v in params.bindings()],
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
    band = TOTAL | {"age_band": "65+", "members": 7, "plan_paid": None, "plan_paid_claims": 0}
    s3 = FakeS3({f"unload/{campaign.campaign_id}/brief-{FIXED.hex}/part-0.gz": gz_lines([TOTAL, band])})
    rows = engine(client, s3).brief_rows(params)
    assert BRIEF_SQL.strip() in seen["QueryString"] and seen["QueryString"].startswith("UNLOAD (")
    figures = figures_by_client(rows)["C1"]
    assert figures.plan_paid == Decimal("1234.50") and figures.member_paid == Decimal("600")
    assert figures.quantity is None and figures.age_bands == {
        "0-17": 0,
        "18-44": 12,
        "45-64": 0,
        "65+": 7,
        "unknown": 0,
    }
    assert figures.affected == 19 and figures.plan_paid_claims == 30 and figures.states == {"IL": 19}
