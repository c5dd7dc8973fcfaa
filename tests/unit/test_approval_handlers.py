"""The approval Lambdas end to end at the handler level: API Gateway events in (HTTP API v2 here; the REST API's v1
in test_approval_api.py), pages out, moto behind."""

from __future__ import annotations

import base64
import email
import email.policy
import json
from pathlib import Path
from types import ModuleType
from urllib.parse import urlencode

import boto3
import pytest
from coach import runtime
from coach.adapters.dynamodb import table_definition
from coach.adapters.memory import MemoryCallbacks
from moto import mock_aws

from coach_local.dispatch import FakeLambdaContext
from tests.conftest import load_handler, set_function_env
from tests.unit.approval_fakes import (
    ACCOUNT_TEAM,
    CLIENT_CONTACTS,
    CSRF,
    TOKEN,
    ClosedCallbacks,
    approval_request,
    contacts_json,
    http_api_event,
    link_id_in,
)

TABLE, BUCKET, SENDER = "approvals", "data-bucket", "clinical@pbm.example"


@pytest.fixture
def aws(monkeypatch, tmp_path):
    set_function_env(
        monkeypatch,
        DATA_BUCKET=BUCKET,
        APPROVALS_TABLE=TABLE,
        SENDER_EMAIL=SENDER,
        APPROVAL_BASE_URL="https://approve.example.org/",
        OUTBOX_DIR=str(tmp_path / "outbox"),
        OPERATOR_EMAIL="ops@pbm.example",
        POWERTOOLS_METRICS_DISABLED="false",
    )
    with mock_aws():
        runtime.reset()
        boto3.client("dynamodb").create_table(**table_definition(TABLE))
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.create_bucket(Bucket="letters")  # the specimen letters the pages show
        s3.put_object(Bucket=BUCKET, Key="campaigns/cmp-1/audience/C1/contacts.json", Body=contacts_json())
        boto3.client("ses").verify_email_identity(EmailAddress=SENDER)
        yield tmp_path / "outbox"
        runtime.reset()


def context(name: str) -> FakeLambdaContext:
    return FakeLambdaContext(function_name=f"coach-{name}", aws_request_id="req-1")


@pytest.fixture
def api(aws, monkeypatch):
    module = load_handler("approval_api")
    fake = MemoryCallbacks()
    monkeypatch.setattr(module, "callbacks", lambda: fake)
    monkeypatch.setattr(module, "fake_callbacks", fake, raising=False)
    return module


def ask(outbox: Path, **kwargs) -> dict[str, str]:
    """Run the approval_request Lambda; recipient → link id, read from the .eml files it wrote."""
    request = approval_request(**kwargs).model_dump(mode="json")
    result = load_handler("approval_request").handler(request, context("approval_request"))
    links = {}
    for path in sorted(outbox.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        assert body is not None
        links[str(message["To"])] = link_id_in(body.get_content())
    assert result == {"links": len(links)}
    return links


def call(api: ModuleType, event: dict) -> dict:
    return api.handler(event, context("approval_api"))


def decision_item() -> dict | None:
    key = {"pk": {"S": "decision#cmp-1#C1#account_team"}, "sk": {"S": "decision"}}
    return boto3.client("dynamodb").get_item(TableName=TABLE, Key=key).get("Item")


def test_approval_request_lambda_emails_each_account_team_member(aws):
    assert set(ask(aws)) == set(ACCOUNT_TEAM)


def test_scanner_get_does_not_decide_through_the_api(api, aws):
    link_id = ask(aws)[ACCOUNT_TEAM[0]]
    response = call(api, http_api_event("GET", f"/a/{link_id}"))
    assert response["statusCode"] == 200 and 'name="csrf_token"' in response["body"]
    headers = response["headers"]
    assert headers["Cache-Control"] == "no-store" and headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer" and headers["Content-Type"].startswith("text/html")
    assert headers["Content-Security-Policy"].startswith("default-src 'none'; style-src 'unsafe-inline'")
    assert decision_item() is None and api.fake_callbacks.calls == []


def test_head_does_not_decide(api, aws):
    link_id = ask(aws)[ACCOUNT_TEAM[0]]
    response = call(api, http_api_event("HEAD", f"/a/{link_id}"))
    assert response["statusCode"] == 200 and response["body"] == ""
    assert response["headers"]["Cache-Control"] == "no-store"
    assert decision_item() is None and api.fake_callbacks.calls == []


@pytest.mark.parametrize("base64_body", [False, True])
def test_post_from_the_page_decides_once(api, aws, base64_body):
    link_id = ask(aws)[ACCOUNT_TEAM[0]]
    page = call(api, http_api_event("GET", f"/a/{link_id}"))["body"]
    match = CSRF.search(page)
    assert match
    form = urlencode({"csrf_token": match.group(1), "decision": "approve", "comment": "ok <b>"})
    first = call(api, http_api_event("POST", f"/a/{link_id}", form, base64_body=base64_body))
    second = call(api, http_api_event("POST", f"/a/{link_id}", form, base64_body=base64_body))
    assert first["statusCode"] == 200 and "you approved" in first["body"]
    assert second["statusCode"] == 200 and "Already approved" in second["body"]
    assert [c[:2] for c in api.fake_callbacks.calls] == [("success", TOKEN)]
    audit = boto3.client("dynamodb").query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "audit#cmp-1"}},
    )["Items"]
    assert len(audit) == 1
    assert (
        audit[0]["source_ip"]["S"] == "198.51.100.7" and audit[0]["user_agent"]["S"] == "Mozilla/5.0 (iPhone)"
    )
    assert audit[0]["comment"]["S"] == "ok <b>"


def test_post_without_csrf_refused_through_the_api(api, aws):
    link_id = ask(aws)[ACCOUNT_TEAM[0]]
    response = call(api, http_api_event("POST", f"/a/{link_id}", "decision=approve"))
    assert response["statusCode"] == 403 and decision_item() is None and api.fake_callbacks.calls == []


def test_task_timed_out_shows_clear_page_through_the_api(api, aws, monkeypatch):
    monkeypatch.setattr(api, "callbacks", lambda: ClosedCallbacks("TaskTimedOut"))
    link_id = ask(aws)[ACCOUNT_TEAM[0]]
    match = CSRF.search(call(api, http_api_event("GET", f"/a/{link_id}"))["body"])
    assert match
    response = call(
        api,
        http_api_event(
            "POST", f"/a/{link_id}", f"csrf_token={match.group(1)}&decision=decline&reason=timing"
        ),
    )
    assert response["statusCode"] == 410 and "no longer waiting" in response["body"]


def test_forged_link_and_unknown_paths_are_not_found(api, aws):
    ask(aws)
    assert call(api, http_api_event("GET", "/a/" + "A" * 43))["statusCode"] == 404
    assert call(api, http_api_event("GET", "/admin"))["statusCode"] == 404
    assert (
        call(api, http_api_event("POST", "/a/" + "A" * 43, "csrf_token=x&decision=approve"))["statusCode"]
        == 404
    )


def test_other_methods_are_not_allowed(api, aws):
    link_id = ask(aws)[ACCOUNT_TEAM[0]]
    response = call(api, http_api_event("DELETE", f"/a/{link_id}"))
    assert response["statusCode"] == 405 and response["headers"]["Allow"] == "GET, HEAD, POST"


def test_oversized_body_refused(api, aws):
    link_id = ask(aws)[ACCOUNT_TEAM[0]]
    response = call(
        api, http_api_event("POST", f"/a/{link_id}", "comment=" + "x" * 9000 + "&decision=approve")
    )
    assert response["statusCode"] == 413 and decision_item() is None


def test_logs_never_carry_link_ids_or_tokens(api, aws, capsys):
    link_id = ask(aws)[ACCOUNT_TEAM[0]]
    match = CSRF.search(call(api, http_api_event("GET", f"/a/{link_id}"))["body"])
    assert match
    call(api, http_api_event("POST", f"/a/{link_id}", f"csrf_token={match.group(1)}&decision=approve"))
    out = capsys.readouterr()
    logs = out.out + out.err
    assert link_id not in logs and TOKEN not in logs and match.group(1) not in logs


def test_client_request_uses_client_facing_counts(aws):
    links = ask(aws, role="client", affected=4, reachable=2)
    assert set(links) == set(CLIENT_CONTACTS)
    text = next(aws.glob("*.eml")).read_text()
    assert "fewer than 11" in text


def test_notify_mandatory_client_notice_counts_only(aws):
    request = approval_request(affected=6, reachable=6)
    notice = {
        "campaign_id": "cmp-1",
        "kind": "mandatory_client",
        "client": request.client.model_dump(mode="json"),
        "event": request.event.model_dump(mode="json"),
    }
    assert load_handler("notify").handler(notice, context("notify")) == {"emails": 1}
    text = next(aws.glob("*.eml")).read_text()
    assert "fewer than 11" in text and "not a request" in text


def test_notify_operator_alert_names_stage_and_error_only(aws):
    alert = {
        "campaign_id": "cmp-1",
        "kind": "operator_alert",
        "stage": "letters",
        "error": "States.TaskFailed",
    }
    assert load_handler("notify").handler(alert, context("notify")) == {"emails": 1}
    text = next(aws.glob("*.eml")).read_text()
    assert "letters" in text and "States.TaskFailed" in text


def test_raw_body_is_base64_decoded_before_parsing(api, aws):
    link_id = ask(aws)[ACCOUNT_TEAM[0]]
    event = http_api_event("POST", f"/a/{link_id}", "decision=approve", base64_body=True)
    assert base64.b64decode(event["body"]) == b"decision=approve"
    assert call(api, event)["statusCode"] == 403  # decoded and parsed: refused for the missing CSRF token
    assert json.loads(json.dumps(event))  # the event is plain JSON, as API Gateway sends it


def test_operator_alert_names_the_inner_stage_of_a_failed_distributed_map(aws, monkeypatch):
    """On AWS a failed letters batch fails its client's child execution, which fails the campaign with
    States.ExceedToleratedFailureThreshold; notify looks inside the failed map runs (histories without execution
    data) and names the stage and error where it really failed. moto keeps no child executions: stubbed client."""
    from botocore.stub import Stubber

    sm = "arn:aws:states:us-east-1:123456789012:stateMachine:automated-pharmacist-campaign"
    parent = sm.replace("stateMachine", "execution") + ":cmp-9"
    client_child = sm.replace("stateMachine", "execution") + "/ForEachClient:c1"
    batch_child = sm.replace("stateMachine", "execution") + "/Letters:b3"
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    stub = Stubber(sfn)

    def history(arn, states, error):
        events = [
            {"id": i + 1, "timestamp": 0, "type": "TaskStateEntered", "stateEnteredEventDetails": {"name": n}}
            for i, n in enumerate(states)
        ]
        events.append(
            {
                "id": len(events) + 1,
                "timestamp": 0,
                "type": "ExecutionFailed",
                "executionFailedEventDetails": {"error": error},
            }
        )
        stub.add_response(
            "get_execution_history",
            {"events": events},
            {"executionArn": arn, "maxResults": 1000, "includeExecutionData": False},
        )

    def failed_child(arn, run_label, child):
        run = sm.replace("stateMachine", "mapRun") + f"/{run_label}:r1"
        stub.add_response(
            "list_map_runs",
            {"mapRuns": [{"executionArn": arn, "mapRunArn": run, "stateMachineArn": sm, "startDate": 0}]},
            {"executionArn": arn},
        )
        stub.add_response(
            "list_executions",
            {
                "executions": [
                    {
                        "executionArn": child,
                        "stateMachineArn": sm,
                        "name": child.rsplit(":", 1)[1],
                        "status": "FAILED",
                        "startDate": 0,
                    }
                ]
            },
            {"mapRunArn": run, "statusFilter": "FAILED", "maxResults": 1},
        )

    history(parent, ["FindAudience", "AnyClients", "ForEachClient"], "States.ExceedToleratedFailureThreshold")
    failed_child(parent, "ForEachClient", client_child)
    history(client_child, ["Election", "Letters"], "States.ExceedToleratedFailureThreshold")
    failed_child(client_child, "Letters", batch_child)
    history(batch_child, ["GenerateLetters"], "TemplateChanged")
    from coach.adapters.stepfunctions import failed_states

    with stub:
        assert failed_states(parent, sfn=sfn) == (
            ["ForEachClient", "Letters", "GenerateLetters"],
            "TemplateChanged",
        )
    stub.assert_no_pending_responses()

    from coach.notices import alert_from_status_change

    event = {
        "detail-type": "Step Functions Execution Status Change",
        "detail": {"status": "FAILED", "name": "cmp-9", "error": "States.ExceedToleratedFailureThreshold"},
    }
    notice = alert_from_status_change(
        event, ["ForEachClient", "Letters", "GenerateLetters"], "TemplateChanged"
    )
    assert (notice.stage, notice.error) == ("client branch: letters", "TemplateChanged")
    outer = alert_from_status_change(event, ["ForEachClient"], None)  # could not look inside: the outer stage
    assert (outer.stage, outer.error) == (
        "clients (approvals, letters, outcomes)",
        "States.ExceedToleratedFailureThreshold",
    )
