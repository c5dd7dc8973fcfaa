"""What the operator sees: the dashboard's metrics, the alarms with their thresholds, and where alarms go."""

from __future__ import annotations

import json
import re

import pytest

from stacks.constructs.functions import POWERTOOLS
from stacks.constructs.monitoring import (
    BOUNCE_RATE_ALARM,
    COMPLAINT_RATE_ALARM,
    SES_REVIEW_BOUNCE_RATE,
    SES_REVIEW_COMPLAINT_RATE,
)
from tests.infra.synth import ROOT, synthesized


@pytest.fixture(scope="module")
def synth():
    return synthesized()


def dashboard(synth) -> dict:
    """The dashboard body with CloudFormation's Fn::Join resolved into placeholders (`<LogicalId.Arn>`, …)."""
    [board] = synth.of_type("AWS::CloudWatch::Dashboard").values()
    body = board["Properties"]["DashboardBody"]
    if isinstance(body, dict):
        separator, parts = body["Fn::Join"]
        body = separator.join(p if isinstance(p, str) else _placeholder(p) for p in parts)
    return json.loads(body)


def _placeholder(part: dict) -> str:
    if "Ref" in part:
        return f"<{part['Ref']}>"
    logical, attribute = part["Fn::GetAtt"]
    return f"<{logical}.{attribute}>"


def widgets(synth) -> dict[str, list[list]]:
    """Widget title → its metric rows (namespace, metric name, dimensions…, options)."""
    return {w["properties"]["title"]: w["properties"].get("metrics", []) for w in dashboard(synth)["widgets"]}


def names(rows: list[list]) -> set[tuple[str, str]]:
    """(namespace, metric) of every plain metric row; "." repeats the row above, as the console writes it."""
    found, previous = set(), None
    for row in rows:
        plain = [x for x in row if isinstance(x, str)]
        if not plain or (len(row) == 1 and isinstance(row[0], dict)):
            continue
        namespace = previous[0] if plain[0] == "." and previous else plain[0]
        metric = previous[1] if plain[1] == "." and previous else plain[1]
        previous = (namespace, metric)
        found.add(previous)
    return found


def alarms(synth) -> dict[str, dict]:
    return {
        re.sub(r"[A-F0-9]{8}$", "", n).removeprefix("Monitoring"): a["Properties"]
        for n, a in synth.of_type("AWS::CloudWatch::Alarm").items()
    }


APP = POWERTOOLS["POWERTOOLS_METRICS_NAMESPACE"]


def test_dashboard_shows_every_stage_an_operator_watches(synth):
    shown = widgets(synth)
    expected = {
        "Campaign executions": {
            ("AWS/States", m) for m in ("ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed")
        },
        "Approval callback waits": {
            ("AWS/States", m)
            for m in (
                "LambdaFunctionsStarted",
                "LambdaFunctionsSucceeded",
                "LambdaFunctionsFailed",
                "LambdaFunctionsTimedOut",
            )
        }
        | {(APP, "ApprovalWaitsOpen")},  # the gauge: open now, whatever range the dashboard shows
        "Callback wait age (hours)": {
            ("AWS/States", "LambdaFunctionRunTime"),
            (APP, "OldestApprovalWaitSeconds"),
        },
        "Approvals per day": {(APP, "DecisionsApproved"), (APP, "DecisionsDeclined")},
        "Letters generated": {(APP, "LettersGenerated")},
        "SES bounces and complaints": {
            ("AWS/SES", m)
            for m in ("Bounce", "Complaint", "Reputation.BounceRate", "Reputation.ComplaintRate")
        },
        "Dead-letter queue depth": {("AWS/SQS", "ApproximateNumberOfMessagesVisible")},
        "Lambda errors": {("AWS/Lambda", "Errors")},
        "Lambda duration (p90)": {("AWS/Lambda", "Duration")},
    }
    for title, metrics in expected.items():
        assert title in shown, f"no {title!r} widget"
        assert metrics <= names(shown[title]), (title, metrics - names(shown[title]))
    body = json.dumps(dashboard(synth), separators=(",", ":"))
    # waits open now come from the gauge (its latest value), not from a balance over the range shown
    assert "RUNNING_SUM(" not in body
    assert (
        f'"{APP}","ApprovalWaitsOpen","service","{POWERTOOLS["POWERTOOLS_SERVICE_NAME"]}",{{"label"' in body
    )
    assert '"label":"Callback waits open now","stat":"Maximum"' in body
    # the callback wait metrics are those of approval_request, the function every waitForTaskToken state invokes
    assert body.count('"LambdaFunctionArn","<Functionsapprovalrequest') >= 4
    # Powertools metrics carry the service dimension Powertools adds
    assert f'"{APP}","LettersGenerated","service","{POWERTOOLS["POWERTOOLS_SERVICE_NAME"]}"' in body


def test_the_app_metrics_namespace_is_the_one_the_code_emits_and_the_docs_name():
    from coach.observability import NAMESPACE, SERVICE

    assert POWERTOOLS["POWERTOOLS_METRICS_NAMESPACE"] == NAMESPACE
    assert POWERTOOLS["POWERTOOLS_SERVICE_NAME"] == SERVICE
    deploy = (ROOT / "docs" / "deploy.md").read_text()
    assert f"`{NAMESPACE}`" in deploy and f"`service={SERVICE}`" in deploy


@pytest.mark.parametrize(
    ("alarm", "namespace", "metric", "threshold"),
    [
        ("CampaignFailed", "AWS/States", "ExecutionsFailed", 1),
        ("IntakeDeadLetters", "AWS/SQS", "ApproximateNumberOfMessagesVisible", 1),
        ("FailureAlertDeadLetters", "AWS/SQS", "ApproximateNumberOfMessagesVisible", 1),
        ("CallbackWaitPastDeadline", APP, "ApprovalsPastDeadline", 1),
        ("SesBounceRate", "AWS/SES", "Reputation.BounceRate", BOUNCE_RATE_ALARM),
        ("SesComplaintRate", "AWS/SES", "Reputation.ComplaintRate", COMPLAINT_RATE_ALARM),
        ("AudienceErrors", "AWS/Lambda", "Errors", 1),
        ("FeedErrors", "AWS/Lambda", "Errors", 1),
        ("FeedDeadLetters", "AWS/SQS", "ApproximateNumberOfMessagesVisible", 1),
        ("AuditArchiveFailed", APP, "AuditArchiveFailed", 1),
    ],
)
def test_each_alarm_watches_its_metric_at_its_threshold_and_notifies_the_topic(
    synth, alarm, namespace, metric, threshold
):
    found = alarms(synth)
    assert alarm in found, sorted(found)
    props = found[alarm]
    assert (props["Namespace"], props["MetricName"]) == (namespace, metric)
    assert props["Threshold"] == threshold
    assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    [action] = props["AlarmActions"]
    topic = next(iter(synth.of_type("AWS::SNS::Topic")))
    assert action == {"Ref": topic}


def test_alarm_dimensions_point_at_this_stacks_resources(synth):
    found = alarms(synth)
    dims = {
        name: {d["Name"]: d["Value"] for d in props.get("Dimensions", [])} for name, props in found.items()
    }
    assert dims["CampaignFailed"]["StateMachineArn"]["Ref"].startswith("WorkflowStateMachine")
    assert dims["IntakeDeadLetters"]["QueueName"]["Fn::GetAtt"][0].startswith("IntakeDeadLetters")
    assert dims["FailureAlertDeadLetters"]["QueueName"]["Fn::GetAtt"][0].startswith(
        "FailureAlertsDeadLetters"
    )
    # not the reminders' own timeouts (the playbook working): only a question past its final deadline
    assert dims["CallbackWaitPastDeadline"] == {"service": POWERTOOLS["POWERTOOLS_SERVICE_NAME"]}
    assert dims["AudienceErrors"]["FunctionName"]["Ref"].startswith("Functionsaudience")
    assert dims["FeedErrors"]["FunctionName"]["Ref"].startswith("Functionsfeeds")
    assert dims["FeedDeadLetters"]["QueueName"]["Fn::GetAtt"][0].startswith("FeedsDeadLetters")
    # the account's rates: what SES reviews
    assert dims["SesBounceRate"] == {} and dims["SesComplaintRate"] == {}
    assert dims["AuditArchiveFailed"] == {"service": POWERTOOLS["POWERTOOLS_SERVICE_NAME"]}


def test_ses_alarms_fire_no_later_than_the_ses_review_thresholds():
    # AWS reviews an account at a 5% bounce rate or a 0.1% complaint rate
    assert (SES_REVIEW_BOUNCE_RATE, SES_REVIEW_COMPLAINT_RATE) == (0.05, 0.001)
    assert 0 < BOUNCE_RATE_ALARM <= SES_REVIEW_BOUNCE_RATE
    assert 0 < COMPLAINT_RATE_ALARM <= SES_REVIEW_COMPLAINT_RATE


def test_alarm_topic_is_encrypted_and_mails_the_alarm_email_from_context(synth):
    [(topic_id, topic)] = synth.of_type("AWS::SNS::Topic").items()
    assert topic["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0].startswith("EncryptionKey")
    [subscription] = synth.of_type("AWS::SNS::Subscription").values()
    assert subscription["Properties"] == {
        "Protocol": "email",
        "Endpoint": "ops@pbm.example",
        "TopicArn": {"Ref": topic_id},
    }
    assert all(a["AlarmActions"] == [{"Ref": topic_id}] for a in alarms(synth).values())


def test_every_app_metric_an_alarm_watches_is_emitted_by_a_function(synth):
    emitted = set()
    for handler in (ROOT / "functions").glob("*/handler.py"):
        emitted |= set(re.findall(r'add_metric\(name="(\w+)"', handler.read_text()))
    watched = {props["MetricName"] for props in alarms(synth).values() if props.get("Namespace") == APP}
    assert watched and watched <= emitted, watched - emitted
