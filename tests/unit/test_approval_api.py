"""The approval Lambda behind API Gateway (REST, payload v1), against moto's DynamoDB: methods, sizes, headers."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from urllib.parse import urlencode

import boto3
import pytest
from coach.adapters.dynamodb import table_definition
from moto import mock_aws

from coach_local.approval_server import api_event
from coach_local.dispatch import FakeLambdaContext
from tests.conftest import load_handler, set_function_env

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def api(monkeypatch):
    set_function_env(monkeypatch)
    with mock_aws():
        from coach import runtime

        runtime.reset()
        boto3.client("dynamodb").create_table(**table_definition("approvals"))
        module = load_handler("approval_api")
        from coach.adapters.memory import MemoryMailer, MemoryObjectStore
        from coach.approvals.asking import request_approval
        from coach.models import ApprovalRequest, ClientWork, MarketEvent

        objects, mailer = MemoryObjectStore(), MemoryMailer()
        objects.put("data", "c.json", json.dumps({"account_team_emails": ["ann@pbm.example"]}).encode())
        request = ApprovalRequest(
            campaign_id="camp",
            role="account_team",
            task_token="tok",
            deadline_seconds=3600,
            client=ClientWork(
                client_id="C1",
                client_name="Acme",
                affected=3,
                reachable=2,
                election="ask",
                batches_key="b",
                batch_count=1,
                contacts_key="c.json",
            ),
            event=MarketEvent.model_validate(
                {
                    "event_id": "e",
                    "event_type": "otc_switch",
                    "drug": {"name": "Claritin", "ingredient": "loratadine"},
                    "effective_date": "2003-01-01",
                    "announced_on": "2002-11-27",
                    "summary": "s",
                }
            ),
        )
        request_approval(
            request,
            store=runtime.approval_store(),
            mailer=mailer,
            objects=objects,
            data_bucket="data",
            sender="p@pbm.example",
            base_url="https://approve.example",
            now=int(time.time()),
        )
        link_id = mailer.sent[0].text.split("/a/")[1].split()[0]

        def call(method, path=None, body=b"", headers=None):
            event = api_event(
                method, path or f"/a/{link_id}", headers or {"User-Agent": "pytest"}, body, "192.0.2.1"
            )
            return module.handler(event, FakeLambdaContext("coach-approval_api"))

        yield call, runtime
        runtime.reset()


def test_get_shows_the_confirmation_page_with_security_headers(api):
    call, _ = api
    response = call("GET")
    assert response["statusCode"] == 200
    headers = {k.lower(): v for k, v in (response.get("multiValueHeaders") or {}).items()}
    headers.update({k.lower(): v for k, v in (response.get("headers") or {}).items()})
    flat = {k: (v[0] if isinstance(v, list) else v) for k, v in headers.items()}
    assert flat["cache-control"] == "no-store" and flat["x-frame-options"] == "DENY"
    assert "default-src 'none'" in flat["content-security-policy"]
    assert '<form method="post"' in response["body"]


def test_head_does_not_decide(api):
    call, runtime = api
    response = call("HEAD")
    assert response["statusCode"] == 200 and not response.get("body")
    assert runtime.approval_store().get_decision("camp#C1#account_team") is None


def test_post_through_the_api_records_the_decision_and_calls_back(api, monkeypatch):
    call, runtime = api
    sent = []
    monkeypatch.setattr(runtime.callbacks(), "succeed", lambda token, output: sent.append((token, output)))
    token_match = re.search(r'name="csrf_token" value="([^"]+)"', call("GET")["body"])
    assert token_match is not None
    token = token_match.group(1)
    response = call(
        "POST",
        body=urlencode({"csrf_token": token, "decision": "approve", "comment": "ok"}).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "phone"},
    )
    assert response["statusCode"] == 200 and "you approved" in response["body"]
    assert sent[0][0] == "tok"
    trail = runtime.approval_store().audit("camp")
    assert [(a.action, a.source_ip, a.user_agent, a.comment) for a in trail] == [
        ("approved", "192.0.2.1", "phone", "ok")
    ]


def test_oversized_body_is_refused(api):
    call, runtime = api
    assert call("POST", body=b"x" * 9000)["statusCode"] == 413
    assert runtime.approval_store().get_decision("camp#C1#account_team") is None


def test_other_paths_and_methods_are_not_found(api):
    call, _ = api
    assert call("GET", path="/admin")["statusCode"] == 404
    assert call("DELETE")["statusCode"] in (404, 405)
