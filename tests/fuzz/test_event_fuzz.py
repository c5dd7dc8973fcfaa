"""Fuzz the market-event intake (issue 6, "Bad input"): whatever a feed sends, intake either starts one campaign
named after the event_id, or rejects the event with short, readable reasons naming the field and quarantines it
with those reasons. Nothing else escapes. Accepted values only ever reach SQL as bound parameters."""

from __future__ import annotations

import gc
import json
import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
from coach.adapters.athena import AthenaClaimsEngine
from coach.adapters.mail import build_mime
from coach.adapters.memory import MemoryApprovalStore, MemoryMailer, MemoryObjectStore
from coach.approvals.asking import request_approval
from coach.audience.engine import AudienceParams
from coach.intake import InvalidEvent, campaign_id_for, plan_campaign, start_campaign
from coach.models import ApprovalRequest, CampaignInput, ClientWork, Notice
from coach.notices import send_notice
from hypothesis import event, example, given

from coach_local.claims import duckdb_engine
from coach_local.claims.duckdb_engine import DuckDbClaimsEngine
from coach_local.claims.lake import open_lake
from coach_local.dispatch import FakeLambdaContext
from tests.conftest import load_handler, set_function_env
from tests.fuzz.strategies import CANONICAL, CLARITIN_NDC, OTHER_NDC, Sample, events, fuzz_settings
from tests.workflow.tiny_lake import client, member, write_lake

NOW = datetime(2026, 1, 1, tzinfo=UTC)
EXECUTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
QUARANTINE_KEY = re.compile(r"^quarantine/2026-01-01/[0-9a-f]{24}\.json$")
MAX_REASON = 600

# The tiny lake the SQL runs against: (member, ndc, fill_date, status).
FILLS = [
    ("M1", CLARITIN_NDC, date(2002, 10, 1), "paid"),
    ("M2", OTHER_NDC, date(2002, 10, 1), "paid"),
    ("M3", CLARITIN_NDC, date(2002, 10, 1), "reversed"),
    ("M4", CLARITIN_NDC, date(2001, 1, 15), "paid"),
]
INGREDIENT_OF = {CLARITIN_NDC: "loratadine", OTHER_NDC: "simvastatin"}


class FakeStarter:
    def __init__(self) -> None:
        self.started: dict[str, str] = {}

    def start(self, name: str, input_json: str) -> bool:
        if name in self.started:
            return False
        self.started[name] = input_json
        return True


def _canonical_json(value: Any) -> str:
    return json.dumps(json.loads(json.dumps(value, default=str)), sort_keys=True, default=str)


def check_reasons(reasons: Any, sample: Sample) -> None:
    assert isinstance(reasons, list) and reasons, "a rejection must say why"
    for reason in reasons:
        assert isinstance(reason, str) and reason.strip()
        assert len(reason) <= MAX_REASON, f"reason of {len(reason)} characters: {reason[:120]!r}…"
        assert "\n" not in reason and "\r" not in reason, f"reason is not one line: {reason[:120]!r}"
        where, sep, what = reason.partition(": ")
        assert sep and where.strip() and what.strip(), (
            f"reason does not read 'field: problem': {reason[:120]!r}"
        )
    if len(sample.mutations) == 1:
        names = sample.mutations[0].names()
        assert any(name in reason for name in names for reason in reasons), (
            f"no reason names {sorted(names)}: {reasons}"
        )
    elif sample.mutations:
        names = set().union(*(m.names() for m in sample.mutations))
        assert any(name in reason for name in names for reason in reasons), (
            f"no reason names any of {sorted(names)}: {reasons}"
        )
    elif not isinstance(sample.raw, dict):
        assert any(reason.startswith("(event)") for reason in reasons)


# --- accepted events: the SQL only ever sees bound parameters -----------------------------------------------------
class RecordingConnection:
    """Wraps the one DuckDB connection over the tiny lake: records each statement and its parameters."""

    def __init__(self, con: Any) -> None:
        self.con = con
        self.calls: list[tuple[str, list[Any] | None]] = []

    def execute(self, sql: str, parameters: list[Any] | None = None) -> Any:
        self.calls.append((sql, None if parameters is None else list(parameters)))
        return self.con.execute(sql, parameters) if parameters is not None else self.con.execute(sql)

    def close(self) -> None:  # the engine closes what open_lake gave it; the real connection is kept
        return None

    def cursor(self) -> RecordingConnection:  # the engine queries through a cursor of the opened lake
        return self


class FakeAthena:
    def __init__(self) -> None:
        self.queries: list[dict] = []

    def start_query_execution(self, **kwargs: Any) -> dict:
        self.queries.append(kwargs)
        return {"QueryExecutionId": f"q{len(self.queries)}"}

    def get_query_execution(self, QueryExecutionId: str) -> dict:
        return {"QueryExecution": {"Status": {"State": "SUCCEEDED"}}}


class FakeS3:
    def get_paginator(self, name: str) -> Any:
        class Pages:
            def paginate(self, **kwargs: Any) -> list[dict]:
                return [{"Contents": []}]

        return Pages()


class SqlWitness:
    def __init__(self, recorder: RecordingConnection, lake: Any) -> None:
        self.recorder, self.lake = recorder, lake
        self.duckdb_texts = self.duckdb_statements(self.params(CANONICAL))[0]
        self.athena_text = self.athena_statement(self.params(CANONICAL))[0]

    @staticmethod
    def params(raw: dict) -> AudienceParams:
        return AudienceParams.for_campaign(plan_campaign(raw).campaign)

    def duckdb_statements(self, params: AudienceParams) -> tuple[list[str], list[list[Any] | None], set[str]]:
        self.recorder.calls.clear()
        rows = list(DuckDbClaimsEngine(self.lake).audience_rows(params))
        texts = [sql for sql, _ in self.recorder.calls]
        return texts, [p for _, p in self.recorder.calls], {row["member_id"] for row in rows}

    @staticmethod
    def athena_statement(params: AudienceParams) -> tuple[str, list[str]]:
        athena = FakeAthena()
        engine = AthenaClaimsEngine(
            workgroup="wg", database="db", output_s3_uri="s3://out/athena", athena=athena, s3=FakeS3()
        )
        assert list(engine.audience_rows(params)) == []
        [query] = athena.queries
        prefix = f"s3://out/athena/{params.campaign_id}/"
        text = query["QueryString"]
        match = re.search(r" TO '([^']*)' WITH ", text)
        assert match and match.group(1).startswith(prefix), (
            "the UNLOAD prefix must be the sanitised campaign id"
        )
        assert re.fullmatch(r"[A-Za-z0-9_-]+", params.campaign_id)
        return text.replace(match.group(1), "<prefix>"), query.get("ExecutionParameters", [])


@pytest.fixture(scope="module")
def sql_witness(tmp_path_factory):
    lake = write_lake(
        tmp_path_factory.mktemp("fuzz") / "lake",
        [client("C1", "One")],
        [member(m, "C1", "A", "B") for m in ("M1", "M2", "M3", "M4")],
        FILLS,
    )
    recorder = RecordingConnection(open_lake(lake))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(duckdb_engine, "open_lake", lambda _: recorder)
        yield SqlWitness(recorder, lake)
    recorder.con.close()
    recorder.con = None  # DuckDB objects still alive at interpreter exit make nanobind print leak reports
    gc.collect()


def expected_members(params: AudienceParams) -> set[str]:
    """The audience rule in plain Python, for the four fills of the tiny lake."""
    matched = {
        ndc
        for ndc, ingredient in INGREDIENT_OF.items()
        if ndc in params.ndcs or (params.ingredient != "" and params.ingredient == ingredient)
    }
    return {
        m
        for m, ndc, filled, status in FILLS
        if status == "paid" and ndc in matched and params.first_day <= filled <= params.last_day
    }


def check_sql_is_bound(witness: SqlWitness, campaign: CampaignInput) -> None:
    params = AudienceParams.for_campaign(campaign)
    texts, bound, members = witness.duckdb_statements(params)
    assert texts == witness.duckdb_texts, "the event changed the SQL text"
    for sql, values in zip(texts, bound, strict=True):
        assert values is not None and len(values) == sql.count("?")
        assert all(isinstance(v, str) for v in values)
    assert bound[-1] == params.bindings()
    assert members == expected_members(params), "bound values changed what the query means"
    athena_text, literals = witness.athena_statement(params)
    assert athena_text == witness.athena_text, "the event changed the Athena SQL text"
    assert len(literals) == len(params.bindings())
    for literal, value in zip(literals, params.bindings(), strict=True):
        inner = literal[1:-1]
        assert literal[0] == literal[-1] == "'" and "'" not in inner.replace("''", ""), "unescaped quote"
        assert inner.replace("''", "'") == value


def check_emails_build(campaign: CampaignInput) -> None:
    """What people are sent about an accepted event can be built (a header never breaks on event text)."""
    objects, mailer = MemoryObjectStore(), MemoryMailer()
    objects.put(
        "data",
        "c.json",
        json.dumps(
            {"account_team_emails": ["ann@pbm.example"], "client_contact_emails": ["hr@acme.example"]}
        ).encode(),
    )
    work = ClientWork(
        client_id="C1",
        client_name="Acme",
        affected=3,
        reachable=2,
        election="ask",
        batches_key="b",
        batch_count=1,
        contacts_key="c.json",
    )
    request = ApprovalRequest(
        campaign_id=campaign.campaign_id,
        client=work,
        role="account_team",
        task_token="t",
        event=campaign.event,
        deadline_seconds=3600,
    )
    request_approval(
        request,
        store=MemoryApprovalStore(),
        mailer=mailer,
        objects=objects,
        data_bucket="data",
        sender="p@pbm.example",
        base_url="https://approve.example",
        now=1_800_000_000,
    )
    send_notice(
        Notice(campaign_id=campaign.campaign_id, kind="mandatory_client", client=work, event=campaign.event),
        mailer=mailer,
        objects=objects,
        data_bucket="data",
        sender="p@pbm.example",
        operator_email=None,
    )
    assert len(mailer.sent) == 2
    for email in mailer.sent:
        build_mime(email).as_bytes()


# --- the property ------------------------------------------------------------------------------------------------
@fuzz_settings()
@given(sample=events())
@example(sample=Sample(CANONICAL))
def test_intake_accepts_or_quarantines_with_a_reason(sample: Sample, sql_witness: SqlWitness):
    raw, starter, store = sample.raw, FakeStarter(), MemoryObjectStore()
    result = start_campaign(raw, starter=starter, store=store, data_bucket="b", time_scale=1, now=NOW)
    assert result["status"] in ("started", "rejected"), result
    event(result["status"])
    if result["status"] == "started":
        request = plan_campaign(raw)
        campaign_id = campaign_id_for(request.campaign.event.event_id)
        assert request.execution_name == campaign_id == result["campaign_id"]
        assert EXECUTION_NAME.match(campaign_id)
        assert all(re.fullmatch(r"[0-9]{11}", ndc) for ndc in request.campaign.event.drug.ndcs), (
            "NDC not 11 digits"
        )
        assert raw["detail"]["event_id"].strip() == request.campaign.event.event_id.strip()
        assert list(starter.started) == [campaign_id] and not store.objects
        started = CampaignInput.model_validate_json(starter.started[campaign_id])
        assert started.event == request.campaign.event
        again = start_campaign(raw, starter=starter, store=store, data_bucket="b", time_scale=1, now=NOW)
        assert again == {"status": "duplicate", "campaign_id": campaign_id}
        check_sql_is_bound(sql_witness, request.campaign)
        event(f"audience {sorted(expected_members(AudienceParams.for_campaign(request.campaign)))}")
        check_emails_build(request.campaign)
        return
    check_reasons(result["reasons"], sample)
    assert not starter.started
    assert QUARANTINE_KEY.match(result["quarantine_key"])
    assert list(store.objects) == [("b", result["quarantine_key"])]
    kept = json.loads(store.get("b", result["quarantine_key"]))
    assert kept["reasons"] == result["reasons"]
    assert _canonical_json(kept["event"]) == _canonical_json(raw)
    with pytest.raises(InvalidEvent) as caught:
        plan_campaign(raw)
    assert caught.value.reasons == result["reasons"]


# --- the same through the Lambda handler -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def intake_handler():
    from coach import runtime

    with pytest.MonkeyPatch.context() as patch:
        set_function_env(
            patch,
            STATE_MACHINE_ARN="arn:aws:states:us-east-1:123456789012:stateMachine:campaign",
            POWERTOOLS_LOG_LEVEL="WARNING",
        )
        runtime.reset()
        module = load_handler("intake", "intake_fuzz_handler")
        world: dict[str, Any] = {}
        patch.setattr(module, "starter", lambda: world["starter"])
        patch.setattr(module, "objects", lambda: world["store"])

        def call(raw: Any) -> tuple[dict, FakeStarter, MemoryObjectStore]:
            world["starter"], world["store"] = FakeStarter(), MemoryObjectStore()
            return module.handler(raw, FakeLambdaContext("coach-intake")), world["starter"], world["store"]

        yield call
    runtime.reset()


@pytest.mark.filterwarnings("ignore:No application metrics")
@fuzz_settings()
@given(sample=events())
def test_intake_lambda_never_raises(sample: Sample, intake_handler):
    result, starter, store = intake_handler(sample.raw)
    if result["status"] == "started":
        assert list(starter.started) == [result["campaign_id"]] and not store.objects
    else:
        assert result["status"] == "rejected" and not starter.started
        check_reasons(result["reasons"], sample)
        assert json.loads(store.get("data", result["quarantine_key"]))["reasons"] == result["reasons"]
