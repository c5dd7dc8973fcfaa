"""The local runtime's caches of moto's repeated work (coach_local/moto_speed.py) change no result: a parsed
JSONPath is reused by every execution, and two executions writing through the same ResultPath keep their own data."""

import json
import time
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.stepfunctions.parser.asl.utils import json_path

from coach_local import moto_speed
from coach_local.runtime import MOTO_CONFIG

DEFINITION = {
    "StartAt": "Pick",
    "States": {
        "Pick": {
            "Type": "Pass",
            "Parameters": {"client.$": "$.campaign.client", "n.$": "$.n"},
            "ResultPath": "$.picked",
            "Next": "Again",
        },
        "Again": {
            "Type": "Pass",
            "Parameters": {"twice.$": "$.picked.n"},
            "ResultPath": "$.picked.more",
            "End": True,
        },
    },
}


@pytest.fixture
def sfn(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws(config=MOTO_CONFIG):
        moto_speed.install()
        try:
            yield boto3.client("stepfunctions")
        finally:
            moto_speed.uninstall()


def _run(sfn, arn: str, name: str, payload: dict) -> dict:
    execution = sfn.start_execution(stateMachineArn=arn, name=name, input=json.dumps(payload))["executionArn"]
    for _ in range(200):
        described = sfn.describe_execution(executionArn=execution)
        if described["status"] != "RUNNING":
            assert described["status"] == "SUCCEEDED", described
            return json.loads(described["output"])
        time.sleep(0.05)
    raise AssertionError("the execution did not finish")


def test_executions_sharing_parsed_paths_keep_their_own_data(sfn):
    arn = sfn.create_state_machine(
        name="paths", definition=json.dumps(DEFINITION), roleArn="arn:aws:iam::123456789012:role/r"
    )["stateMachineArn"]
    first = _run(sfn, arn, "one", {"campaign": {"client": "C1"}, "n": 1})
    second = _run(sfn, arn, "two", {"campaign": {"client": "C2"}, "n": 2})
    assert first["picked"] == {"client": "C1", "n": 1, "more": {"twice": 1}}
    assert second["picked"] == {"client": "C2", "n": 2, "more": {"twice": 2}}
    assert json_path.parse("$.campaign.client") is json_path.parse("$.campaign.client")  # parsed once


def test_uninstall_gives_moto_its_own_parser_back():
    moto_speed.install()
    moto_speed.uninstall()
    assert json_path.parse("$.a") is not json_path.parse("$.a")


def _keyed_table(name: str) -> Any:
    """A DynamoDB client and a table keyed like the approvals table (pk, sk)."""
    ddb: Any = boto3.client("dynamodb", region_name="us-east-1")
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return ddb


def _moto_then_patched(session: Any, patch: Any) -> tuple[Any, Any]:
    """The same session's answers from moto alone, then with `patch` (install/uninstall) installed."""
    with mock_aws(config=MOTO_CONFIG):
        plain = session()
    with mock_aws(config=MOTO_CONFIG):
        patch.install()
        try:
            patched = session()
        finally:
            patch.uninstall()
    return plain, patched


def _dynamodb_session() -> list:
    """A run of item reads and writes of every kind the approvals table sees, with the answers boto3 parsed."""
    ddb = _keyed_table("t")
    nested = {"M": {"a": {"L": [{"S": "b"}, {"NULL": True}, {"N": "1.50"}]}, "flags": {"SS": ["x", "y"]}}}
    answers: list[Any] = []
    for i in range(5):
        item: dict[str, Any] = {
            "pk": {"S": "p"},
            "sk": {"S": f"{i}"},
            "n": {"N": str(i)},
            "m": nested,
            "ok": {"BOOL": i % 2 == 0},
        }
        if i == 3:
            item["blob"] = {"B": b"\x00\xffbinary"}  # the walk base64-encodes it: never the plain dump
        answers.append(ddb.put_item(TableName="t", Item=item, ReturnConsumedCapacity="TOTAL"))
    key = {"pk": {"S": "p"}, "sk": {"S": "3"}}
    answers.append(ddb.get_item(TableName="t", Key=key))
    answers.append(ddb.get_item(TableName="t", Key={"pk": {"S": "p"}, "sk": {"S": "missing"}}))
    answers.append(
        ddb.get_item(TableName="t", Key={"pk": {"S": "p"}, "sk": {"S": "1"}}, ProjectionExpression="n")
    )
    answers.append(
        ddb.query(
            TableName="t", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p"}}
        )
    )
    answers.append(
        ddb.query(
            TableName="t",
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "p"}},
            Limit=2,
        )
    )
    answers.append(ddb.scan(TableName="t"))
    for keys in (["0", "1", "missing"], ["3", "4"]):  # the second batch holds the binary attribute
        batch = {"t": {"Keys": [{"pk": {"S": "p"}, "sk": {"S": k}} for k in keys]}}
        got = ddb.batch_get_item(RequestItems=batch)
        got["Responses"]["t"].sort(key=lambda item: item["sk"]["S"])
        answers.append(got)
    answers.append(
        ddb.update_item(
            TableName="t",
            Key={"pk": {"S": "p"}, "sk": {"S": "1"}},
            UpdateExpression="SET n = :x",
            ExpressionAttributeValues={":x": {"N": "6"}},
            ReturnValues="ALL_NEW",
        )
    )
    answers.append(
        ddb.delete_item(TableName="t", Key={"pk": {"S": "p"}, "sk": {"S": "2"}}, ReturnValues="ALL_OLD")
    )
    try:
        ddb.put_item(
            TableName="t",
            Item={"pk": {"S": "p"}, "sk": {"S": "1"}},
            ConditionExpression="attribute_not_exists(pk)",
        )
    except ddb.exceptions.ConditionalCheckFailedException as error:
        answers.append(error.response["Error"])
    for answer in answers:
        answer.pop("ResponseMetadata", None)
    return answers


def test_dynamodb_answers_dumped_as_they_are_parse_as_moto_serialised_them(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    plain, fast = _moto_then_patched(_dynamodb_session, moto_speed)
    assert fast == plain
    assert fast[5]["Item"]["blob"] == {"B": b"\x00\xffbinary"}


def test_user_agent_components_are_sanitised_as_botocore_does():
    import botocore.useragent

    original = botocore.useragent.sanitize_user_agent_string_component
    samples = [
        ("Boto3/1.35.0", False),
        ("md/arch#x86_64", True),
        ("md/arch#x86_64", False),
        ("a b(c)\u00e9", False),
    ]
    expected = [original(raw, allow_hash) for raw, allow_hash in samples]
    moto_speed.install()
    try:
        installed = botocore.useragent.sanitize_user_agent_string_component
        assert installed is not original
        assert [installed(raw, allow_hash) for raw, allow_hash in samples * 2] == expected * 2
    finally:
        moto_speed.uninstall()
    assert botocore.useragent.sanitize_user_agent_string_component is original


def _audit_queries() -> list:
    """Key-range queries of one partition, as the approval store reads a question's audit records."""
    ddb = _keyed_table("a")
    for partition in ("audit#c1", "audit#c2"):
        for role in ("account_team", "client", "account_team#x"):
            for client in ("C1", "C10", "C2"):
                for i in range(3):
                    sk = f"{role}#{client}#2002-11-27T10:0{i}"
                    ddb.put_item(
                        TableName="a", Item={"pk": {"S": partition}, "sk": {"S": sk}, "n": {"N": str(i)}}
                    )
    answers = []
    for prefix in ("account_team#C1#", "account_team#C1", "client#", "a", "zzz", "account_team#x#C2#"):
        values = {":p": {"S": "audit#c1"}, ":s": {"S": prefix}}
        page = ddb.query(
            TableName="a",
            KeyConditionExpression="pk = :p AND begins_with(sk, :s)",
            ExpressionAttributeValues=values,
        )
        answers.append([item["sk"]["S"] for item in page["Items"]])
    between = {":p": {"S": "audit#c2"}, ":a": {"S": "account_team#C10"}, ":b": {"S": "client#C1#2"}}
    page = ddb.query(
        TableName="a",
        KeyConditionExpression="pk = :p AND sk BETWEEN :a AND :b",
        ExpressionAttributeValues=between,
    )
    answers.append([item["sk"]["S"] for item in page["Items"]])
    return answers


def test_a_partition_query_by_sort_key_prefix_finds_what_moto_finds(monkeypatch):
    from coach_local import moto_fixes

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    plain, fixed = _moto_then_patched(_audit_queries, moto_fixes)
    assert fixed == plain
    assert len(plain[0]) == 3 and len(plain[1]) == 6 and plain[4] == []
