"""The local runtime's corrections of moto: a Distributed Map fails when more items fail than tolerated, and a
conditional DynamoDB write is atomic between threads, as on AWS."""

import json
import time

import boto3
import pytest
from moto import mock_aws
from moto.awslambda_simple.models import LambdaSimpleBackend

from coach_local import moto_fixes
from coach_local.runtime import MOTO_CONFIG


def _invoke(self, function_name, qualifier, body, headers, response_headers):
    if json.loads(body or "{}").get("fail"):
        response_headers["x-amz-function-error"] = "Unhandled"
        return json.dumps({"errorType": "Boom", "errorMessage": "x"}).encode()
    return b'{"ok": 1}'


@pytest.fixture
def sfn(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setattr(LambdaSimpleBackend, "invoke", _invoke)
    with mock_aws(config=MOTO_CONFIG):
        moto_fixes.install()
        try:
            s3 = boto3.client("s3")
            s3.create_bucket(Bucket="items-bucket")
            s3.put_object(
                Bucket="items-bucket",
                Key="items.json",
                Body=json.dumps([{"fail": False}, {"fail": True}, {"fail": False}, {"fail": False}]),
            )
            yield boto3.client("stepfunctions")
        finally:
            moto_fixes.uninstall()


def run_map(sfn, **tolerance):
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "f", "Payload.$": "$"},
        "End": True,
    }
    definition = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "End": True,
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:getObject",
                    "ReaderConfig": {"InputType": "JSON"},
                    "Parameters": {"Bucket": "items-bucket", "Key": "items.json"},
                },
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "T",
                    "States": {"T": task},
                },
                **tolerance,
            }
        },
    }
    arn = sfn.create_state_machine(
        name=f"m{time.time_ns()}",
        definition=json.dumps(definition),
        roleArn="arn:aws:iam::123456789012:role/r",
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
        time.sleep(0.05)
    return described


def test_one_failed_item_fails_the_map_by_default(sfn):
    described = run_map(sfn)
    assert described["status"] == "FAILED"
    assert described["error"] == "States.ExceedToleratedFailureThreshold"


def test_failures_within_the_tolerated_percentage_succeed(sfn):
    assert run_map(sfn, ToleratedFailurePercentage=25.0)["status"] == "SUCCEEDED"
    assert run_map(sfn, ToleratedFailurePercentage=20.0)["status"] == "FAILED"


def test_tolerance_arithmetic_takes_the_stricter_limit():
    assert moto_fixes.tolerated(100, None, None) == 0
    assert moto_fixes.tolerated(100, 5, 10.0) == 5
    assert moto_fixes.tolerated(7, None, 50.0) == 3


def conditional_puts_at_once(threads: int) -> int:
    """`threads` clients put the same key at once, each only if it is absent (as an approval decision is claimed)."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from botocore.exceptions import ClientError

    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(
        TableName="claims",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    barrier = Barrier(threads)

    def claim(n: int) -> bool:
        client = boto3.client("dynamodb")
        barrier.wait()
        try:
            client.put_item(
                TableName="claims",
                Item={"pk": {"S": "decision#group"}, "by": {"S": str(n)}},
                ConditionExpression="attribute_not_exists(pk)",
            )
            return True
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "ConditionalCheckFailedException"
            return False

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return sum(pool.map(claim, range(threads)))


def test_a_conditional_write_is_atomic_between_threads(monkeypatch):
    import moto.dynamodb.models.table as moto_table

    evaluate = moto_table.get_filter_expression

    def slow_condition(*args, **kwargs):  # a busy machine: time passes between moto's check and its write
        condition = evaluate(*args, **kwargs)
        time.sleep(0.02)
        return condition

    monkeypatch.setattr(moto_table, "get_filter_expression", slow_condition)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        moto_fixes.install()
        try:
            assert conditional_puts_at_once(16) == 1
        finally:
            moto_fixes.uninstall()


def reads_during_writes(monkeypatch) -> list[str]:
    """Queries of a partition while another thread writes into it; the errors the reads got. moto's read is slowed
    as a busy machine slows it: a write can come in while it walks the partition."""
    import threading

    import moto.dynamodb.models.table as moto_table
    from botocore.exceptions import ClientError

    def slow_all_items(self):
        found = []
        for partition in self.items.values():
            for n, item in enumerate(partition.values() if self.range_key_attr else [partition]):
                found.append(item)
                if n == 0:
                    time.sleep(0.005)
        return found

    monkeypatch.setattr(moto_table.Table, "all_items", slow_all_items)
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(
        TableName="approvals",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    )
    trail = {"pk": {"S": "campaign#c1"}}
    for n in range(20):
        dynamodb.put_item(TableName="approvals", Item={**trail, "sk": {"S": f"audit#{n:05d}"}})
    reading, errors = threading.Event(), []

    def write() -> None:  # another client's clicks add to the campaign's trail
        writer = boto3.client("dynamodb")
        for n in range(20, 2_000):  # bounded: every read answers the whole partition
            if reading.is_set():
                return
            writer.put_item(TableName="approvals", Item={**trail, "sk": {"S": f"audit#{n:05d}"}})

    thread = threading.Thread(target=write)
    thread.start()
    try:
        for _ in range(30):
            try:
                dynamodb.query(
                    TableName="approvals",
                    KeyConditionExpression="pk = :pk",
                    ExpressionAttributeValues={":pk": trail["pk"]},
                    Limit=5,
                )
            except (ClientError, RuntimeError) as exc:  # moto's error reaches the caller as the call's
                errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        reading.set()
        thread.join()
    return errors


def test_a_read_never_sees_a_write_half_done(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        moto_fixes.install()
        try:
            assert reads_during_writes(monkeypatch) == []
        finally:
            moto_fixes.uninstall()


def test_without_the_fix_a_read_fails_when_a_write_comes_in(monkeypatch):
    """The test above can fail: without the read lock, moto's read breaks on the writes."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        errors = reads_during_writes(monkeypatch)
    assert errors and all("dictionary changed size during iteration" in e for e in errors), errors[:3]


TOKENS: list[str] = []


def _invoke_recording_token(self, function_name, qualifier, body, headers, response_headers):
    TOKENS.append(json.loads(body)["token"])
    return b"{}"


def a_wait_that_timed_out(sfn) -> tuple[str, str]:
    """(execution, token): a `.waitForTaskToken` task timed out after 1 s; its Catch moved on to a long Wait."""
    definition = {
        "StartAt": "Ask",
        "States": {
            "Ask": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {"FunctionName": "f", "Payload": {"token.$": "$$.Task.Token"}},
                "TimeoutSeconds": 1,
                "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "Later"}],
                "End": True,
            },
            "Later": {"Type": "Wait", "Seconds": 60, "End": True},
        },
    }
    arn = sfn.create_state_machine(
        name=f"w{time.time_ns()}",
        definition=json.dumps(definition),
        roleArn="arn:aws:iam::123456789012:role/r",
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    while not any(
        e["type"] == "WaitStateEntered" for e in sfn.get_execution_history(executionArn=execution)["events"]
    ):
        time.sleep(0.05)
    return execution, TOKENS[-1]


def test_a_token_whose_wait_timed_out_is_refused_as_on_aws(monkeypatch):
    from botocore.exceptions import ClientError

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setattr(LambdaSimpleBackend, "invoke", _invoke_recording_token)
    with mock_aws(config=MOTO_CONFIG):
        moto_fixes.install()
        try:
            sfn = boto3.client("stepfunctions")
            execution, token = a_wait_that_timed_out(sfn)
            with pytest.raises(ClientError) as refused:
                sfn.send_task_success(taskToken=token, output='{"decision": "approved"}')
            with pytest.raises(ClientError) as refused_failure:
                sfn.send_task_failure(taskToken=token, error="Coach.Declined", cause="declined")
            sfn.stop_execution(executionArn=execution)
        finally:
            moto_fixes.uninstall()
    assert refused.value.response["Error"]["Code"] == "TaskTimedOut"
    assert refused_failure.value.response["Error"]["Code"] == "TaskTimedOut"


def test_without_the_fix_moto_accepts_a_timed_out_token(monkeypatch):
    """Why the fix exists: moto alone takes the late answer, which AWS refuses."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setattr(LambdaSimpleBackend, "invoke", _invoke_recording_token)
    with mock_aws(config=MOTO_CONFIG):
        sfn = boto3.client("stepfunctions")
        execution, token = a_wait_that_timed_out(sfn)
        sfn.send_task_success(taskToken=token, output='{"decision": "approved"}')
        sfn.stop_execution(executionArn=execution)


def test_the_interpreter_makes_one_lambda_client_for_all_its_tasks(sfn, monkeypatch):
    """Four items, four Lambda tasks (and the item reader's S3 read): one client per service, not one per call."""
    made: list[str] = []
    real_client = boto3.client

    def counting(*args, **kwargs):
        made.append(kwargs.get("service_name") or args[0])
        return real_client(*args, **kwargs)

    monkeypatch.setattr(boto3, "client", counting)
    run_map(sfn, ToleratedFailurePercentage=25.0)
    run_map(sfn, ToleratedFailurePercentage=25.0)
    assert sorted(made) == ["lambda", "s3"]


def test_the_runtime_leaves_moto_batch_and_ec2_models_unloaded_until_asked_for():
    """moto's interpreter imports moto.batch for an integration our ASL never uses; with the runtime's modules loaded
    first, the Step Functions interpreter loads without Batch's or EC2's models, and Batch still works when asked."""
    import subprocess
    import sys

    script = (
        "import sys, coach_local.runtime, moto.stepfunctions.parser.models\n"
        "print('moto.batch.models' in sys.modules, 'moto.ec2.models' in sys.modules)\n"
        "from moto import mock_aws\n"
        "import boto3\n"
        "with mock_aws():\n"
        "    print(boto3.client('batch', region_name='us-east-1').describe_compute_environments()['computeEnvironments'])\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.split("\n")[:2] == ["False False", "[]"]
