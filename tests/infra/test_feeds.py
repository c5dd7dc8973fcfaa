"""The market feeds on AWS: one schedule per FDA feed invoking the feeds function (retried, then a dead-letter
queue), the state table it alone writes, and candidates put on the bus where the intake rule never matches them."""

from __future__ import annotations

import json

import pytest
from coach.adapters.feed_state import table_definition
from coach.feeds import SOURCES
from coach.intake import EVENT_PATTERN

from tests.infra.synth import synthesized


@pytest.fixture(scope="module")
def synth():
    return synthesized()


def logical(synth, prefix: str, kind: str) -> tuple[str, dict]:
    [(name, resource)] = [(n, r) for n, r in synth.of_type(kind).items() if n.startswith(prefix)]
    return name, resource


def statements(synth, role_prefix: str) -> list[dict]:
    role, _ = logical(synth, role_prefix, "AWS::IAM::Role")
    found = []
    for policy in synth.of_type("AWS::IAM::Policy").values():
        if {"Ref": role} in policy["Properties"]["Roles"]:
            found += policy["Properties"]["PolicyDocument"]["Statement"]
    return found


def test_each_feed_has_its_schedule_invoking_the_feeds_function_with_retries_and_a_dead_letter_queue(synth):
    function, _ = logical(synth, "Functionsfeeds", "AWS::Lambda::Function")
    queue, _ = logical(synth, "FeedsDeadLetters", "AWS::SQS::Queue")
    schedules = synth.of_type("AWS::Scheduler::Schedule").values()
    feeds = {}
    for schedule in schedules:
        target = schedule["Properties"]["Target"]
        feeds[json.loads(target["Input"])["feed"]] = schedule["Properties"]["ScheduleExpression"]
        assert target["Arn"] == {"Fn::GetAtt": [function, "Arn"]}
        assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": [queue, "Arn"]}
        assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    assert set(feeds) == set(SOURCES)
    assert (
        feeds["ndc-directory"] == "cron(0 5 * * ? *)"
    )  # first each morning: the others resolve NDCs from it


def test_the_state_table_is_the_adapters_with_pitr_and_the_stacks_key(synth):
    _, table = logical(synth, "FeedStateTable", "AWS::DynamoDB::Table")
    props = table["Properties"]
    assert props["KeySchema"] == table_definition("feed-state")["KeySchema"]
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"]["SSEType"] == "KMS"
    assert table["DeletionPolicy"] == "Retain"


def test_the_feeds_function_writes_only_its_state_table_and_puts_events_on_the_default_bus(synth):
    state, _ = logical(synth, "FeedStateTable", "AWS::DynamoDB::Table")
    approvals, _ = logical(synth, "ApprovalsTable", "AWS::DynamoDB::Table")
    found = statements(synth, "Functionsfeeds")
    dynamo = [s for s in found if any(str(a).startswith("dynamodb:") for a in s["Action"])]
    assert dynamo and all(s["Resource"] == {"Fn::GetAtt": [state, "Arn"]} for s in dynamo)
    assert approvals not in json.dumps(found)
    assert not any("s3:" in json.dumps(s["Action"]) for s in found)
    [events] = [s for s in found if s["Action"] == "events:PutEvents"]
    assert "event-bus/default" in json.dumps(events["Resource"])


def test_the_scheduler_role_is_this_accounts_and_may_only_invoke_the_feeds_function(synth):
    _, role = logical(synth, "FeedsSchedulerRole", "AWS::IAM::Role")
    [trust] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    actions = sorted(
        a
        for s in statements(synth, "FeedsSchedulerRole")
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    )
    assert actions == ["kms:Decrypt", "kms:GenerateDataKey", "lambda:InvokeFunction", "sqs:SendMessage"]


def test_candidates_cannot_reach_intake_before_a_pharmacist_confirms():
    from coach.feeds.service import SOURCE_PREFIX

    assert not any(source.startswith(SOURCE_PREFIX) for source in EVENT_PATTERN["source"])


def test_an_openfda_key_secret_is_readable_by_the_feeds_function_alone():
    from tests.infra.synth import EXTERNAL_LAKE

    arn = EXTERNAL_LAKE["openfda_api_key_secret_arn"]
    external = synthesized(external_lake=True)
    readers = [
        name
        for name, policy in external.of_type("AWS::IAM::Policy").items()
        if "secretsmanager:" in json.dumps(policy["Properties"]["PolicyDocument"])
    ]
    assert len(readers) == 1 and readers[0].startswith("Functionsfeeds")
    [grant] = [
        s
        for s in external.of_type("AWS::IAM::Policy")[readers[0]]["Properties"]["PolicyDocument"]["Statement"]
        if s["Action"] == "secretsmanager:GetSecretValue"
    ]
    assert grant["Resource"] == arn
    _, function = logical(external, "Functionsfeeds", "AWS::Lambda::Function")
    assert function["Properties"]["Environment"]["Variables"]["OPENFDA_API_KEY_SECRET"] == arn


def test_without_a_key_secret_nobody_reads_secrets(synth):
    assert "secretsmanager:" not in json.dumps(synth.of_type("AWS::IAM::Policy"))
