"""Callback waits open: what the dashboard's gauge and `coach status` count, on both stores (DynamoDB via its sparse
open-waits index under moto, and the in-memory one)."""

from __future__ import annotations

import boto3
import pytest
from coach.adapters.dynamodb import DynamoApprovalStore, table_definition
from coach.adapters.memory import MemoryApprovalStore
from coach.approvals.waits import oldest_seconds, open_waits

from tests.unit.approval_fakes import ACCOUNT_TEAM, NOW, Approvals, approval_request

TABLE = "approvals"


@pytest.fixture
def dynamo_world(mocked_aws):
    boto3.client("dynamodb").create_table(**table_definition(TABLE))
    return Approvals(store=DynamoApprovalStore(TABLE))


@pytest.fixture(params=["dynamodb", "memory"])
def world(request):
    if request.param == "memory":
        return Approvals(store=MemoryApprovalStore())
    return request.getfixturevalue("dynamo_world")


def test_an_unanswered_question_is_one_open_wait_with_its_recipients_and_deadline(world):
    world.ask()
    [wait] = open_waits(world.store, NOW + 600)
    assert (wait.campaign_id, wait.client_id, wait.client_name, wait.role, wait.kind) == (
        "cmp-1",
        "C1",
        "Acme Corp",
        "account_team",
        "ask",
    )
    assert (wait.since, wait.deadline, wait.recipients) == (NOW, NOW + 3600, len(ACCOUNT_TEAM))
    assert oldest_seconds([wait], NOW + 600) == 600


def test_an_answered_question_is_no_longer_open(world):
    links = world.ask()
    world.answer(links[ACCOUNT_TEAM[0]])
    assert open_waits(world.store, NOW + 600) == []


def test_a_reminder_replaces_the_ask_it_supersedes(world):
    world.ask()
    world.ask(approval_request(kind="reminder", attempt=1, token="token-2"), now=NOW + 3600)
    [wait] = open_waits(world.store, NOW + 3700)
    assert (wait.kind, wait.since, wait.deadline) == ("reminder", NOW + 3600, NOW + 7200)


def test_a_question_past_its_deadline_or_of_a_stopped_campaign_is_not_waited_for(world):
    world.ask()
    assert open_waits(world.store, NOW + 3600) == []  # Step Functions stopped waiting at the deadline
    assert open_waits(world.store, NOW + 600, running=lambda campaign_id: False) == []


def test_nothing_open_is_zero_old():
    assert oldest_seconds([], NOW) == 0.0


def test_the_index_projects_no_token_and_no_address(dynamo_world):
    dynamo_world.ask()
    items = boto3.client("dynamodb").query(
        TableName=TABLE,
        IndexName="open_waits",
        KeyConditionExpression="open_wait = :o",
        ExpressionAttributeValues={":o": {"S": "open"}},
    )["Items"]
    assert len(items) == len(ACCOUNT_TEAM)
    for item in items:
        assert not {"task_token", "recipient", "csrf_token"} & set(item)
