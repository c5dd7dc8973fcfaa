"""The review pages through the approval Lambda behind API Gateway (REST, payload v1) on moto's DynamoDB: a GET or
HEAD (a mail scanner following the link) decides nothing, a POST needs the page's CSRF token, headers as the
approval pages."""

from __future__ import annotations

import re
import time
from datetime import date
from urllib.parse import urlencode

import boto3
import pytest
from coach.adapters.dynamodb import table_definition
from moto import mock_aws

from coach_local.approval_server import api_event
from coach_local.dispatch import FakeLambdaContext
from tests.conftest import load_handler, set_function_env

GROUP = "camp#clinical-review#clinical_reviewer"
FORM = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "rph-laptop"}


@pytest.fixture
def api(monkeypatch):
    set_function_env(monkeypatch)
    with mock_aws():
        from coach import runtime
        from coach.adapters.memory import MemoryMailer
        from coach.models import Drug, MarketEvent
        from coach.review.models import ReviewBlock, ReviewRequest
        from coach.review.service import request_review

        runtime.reset()
        boto3.client("dynamodb").create_table(**table_definition("approvals"))
        module = load_handler("approval_api")
        mailer = MemoryMailer()
        event = MarketEvent(
            event_id="fda-recalls-D-0001-2027",
            event_type="recall",
            recall_class="I",
            drug=Drug(name="Metformin ER", ingredient="metformin hydrochloride"),
            effective_date=date(2027, 1, 4),
            announced_on=date(2027, 1, 6),
            summary="Metformin ER 500 mg recalled: NDMA above the acceptable intake limit.",
        )
        review = ReviewBlock(
            source="coach.feed.fda-recalls",
            reasons=["The record names no NDC and the openfda block is empty."],
            missing=["drug.ndcs"],
            deadline_seconds=3600,
            reminders=1,
            escalate=True,
        )
        request_review(
            ReviewRequest(campaign_id="camp", task_token="tok", event=event, review=review),
            store=runtime.approval_store(),
            mailer=mailer,
            sender="p@pbm.example",
            base_url="https://approve.example",
            reviewers="rph@pbm.example",
            escalation="",
            now=time.time(),
        )
        link_id = mailer.sent[0].text.split("/r/")[1].split()[0]

        def call(method, path=None, body=b"", headers=None):
            event = api_event(
                method, path or f"/r/{link_id}", headers or {"User-Agent": "scanner"}, body, "192.0.2.7"
            )
            return module.handler(event, FakeLambdaContext("coach-approval_api"))

        yield call, runtime, link_id
        runtime.reset()


def csrf(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match is not None
    return match.group(1)


def test_get_and_head_show_the_review_and_decide_nothing(api, monkeypatch):
    call, runtime, _ = api
    heard = []
    monkeypatch.setattr(runtime.callbacks(), "succeed", lambda *a: heard.append(a))
    monkeypatch.setattr(runtime.callbacks(), "fail", lambda *a: heard.append(a))
    page = call("GET")
    assert page["statusCode"] == 200 and "Class I recall" in page["body"]
    assert "The record names no NDC" in page["body"]
    headers = {k.lower(): v for k, v in (page.get("multiValueHeaders") or {}).items()}
    headers.update({k.lower(): v for k, v in (page.get("headers") or {}).items()})
    flat = {k: (v[0] if isinstance(v, list) else v) for k, v in headers.items()}
    assert flat["cache-control"] == "no-store" and "default-src 'none'" in flat["content-security-policy"]
    assert call("HEAD")["statusCode"] == 200
    assert call("GET")["statusCode"] == 200  # a scanner opening it twice
    assert heard == []
    assert runtime.approval_store().get_decision(GROUP) is None
    assert runtime.approval_store().audit("camp") == []


def test_a_post_without_the_csrf_token_is_refused(api):
    call, runtime, _ = api
    body = urlencode({"decision": "dismiss"}).encode()
    assert call("POST", body=body, headers=FORM)["statusCode"] == 403
    assert runtime.approval_store().get_decision(GROUP) is None


def test_the_pharmacist_supplies_the_ndcs_and_the_workflow_hears_the_corrected_event(api, monkeypatch):
    call, runtime, _ = api
    heard = []
    monkeypatch.setattr(runtime.callbacks(), "succeed", lambda token, output: heard.append((token, output)))
    token = csrf(call("GET")["body"])
    fields = {
        "csrf_token": token,
        "decision": "confirm",
        "ndcs": "",
        "effective_date": "2027-01-04",
        "alternatives": "",
        "summary": "Metformin ER 500 mg recalled: NDMA above the acceptable intake limit.",
    }
    refused = call("POST", body=urlencode(fields).encode(), headers=FORM)
    assert refused["statusCode"] == 422 and "enter the NDCs before confirming" in refused["body"]
    assert heard == []
    accepted = call("POST", body=urlencode({**fields, "ndcs": "0093-7267-01"}).encode(), headers=FORM)
    assert accepted["statusCode"] == 200
    [(task_token, output)] = heard
    assert task_token == "tok" and output["drug"]["ndcs"] == ["00093726701"]
    [record] = runtime.approval_store().audit("camp")
    assert (record.action, record.who, record.source_ip, record.user_agent) == (
        "corrected",
        "rph@pbm.example",
        "192.0.2.7",
        "rph-laptop",
    )


def test_a_review_link_on_the_approval_path_is_not_found(api):
    call, _, link_id = api
    assert call("GET", path=f"/a/{link_id}")["statusCode"] == 404
    assert call("DELETE")["statusCode"] == 405
