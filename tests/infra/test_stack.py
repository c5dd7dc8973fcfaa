"""The synthesised template: the properties a health plan's security review asks about, and cdk-nag's verdict."""

from __future__ import annotations

import json
import re

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match

from app import build
from tests.infra.synth import ROOT, synthesized

EVERY_FUNCTION = {
    "intake",
    "audience",
    "approval_request",
    "approval_api",
    "notify",
    "letters",
    "client_outcome",
    "summary",
    "open_waits",
}
ENVIRONMENT = {
    "DATA_BUCKET",
    "LETTERS_BUCKET",
    "APPROVALS_TABLE",
    "SENDER_EMAIL",
    "APPROVAL_BASE_URL",
    "CLAIMS_ENGINE",
    "LAKE_URI",
    "BATCH_SIZE",
    "ATHENA_WORKGROUP",
    "ATHENA_DATABASE",
    "ATHENA_OUTPUT",
    "OPERATOR_EMAIL",
    "SES_CONFIGURATION_SET",
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
}


@pytest.fixture(scope="module")
def synth():
    return synthesized()


def functions(synth) -> dict[str, dict]:
    """Our eight functions by folder name (CDK adds helper functions of its own, with other handlers)."""
    by_logical_id = {f"Functions{name.replace('_', '')}": name for name in EVERY_FUNCTION}
    found = {}
    for logical, function in synth.of_type("AWS::Lambda::Function").items():
        if function["Properties"].get("Handler") == "handler.handler":
            found[by_logical_id[logical[:-8]]] = function[
                "Properties"
            ]  # logical id = path + 8-character hash
    return found


def statements(synth):
    for name, policy in synth.of_type("AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            yield name, statement


def as_list(value):
    return value if isinstance(value, list) else [value]


def test_cdk_nag_packs_pass_with_every_finding_acknowledged_with_a_reason(synth):
    packs = {p["pluginName"]: p for p in synth.report["pluginReports"]}
    assert {"AwsSolutions", "HIPAA.Security"} <= set(packs)
    for name in ("AwsSolutions", "HIPAA.Security"):
        assert packs[name]["conclusion"] == "success", packs[name]["violations"]
        assert packs[name]["violations"] == []
        assert all(v["reason"].strip() for v in packs[name]["suppressedViolations"])


def test_every_acknowledgement_is_listed_in_the_security_doc(synth):
    doc = (ROOT / "docs" / "security.md").read_text()
    for pack in synth.report["pluginReports"]:
        for finding in pack.get("suppressedViolations", []):
            rule = finding["ruleName"].split("[")[0]
            assert f"| {rule} |" in doc, f"{rule} is acknowledged but not explained in docs/security.md"


def test_buckets_are_kms_encrypted_tls_only_and_private(synth):
    buckets = synth.of_type("AWS::S3::Bucket")
    assert len(buckets) == 6  # data, letters, athena results, the lake, the audit trail, access logs
    for name, bucket in buckets.items():
        props = bucket["Properties"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert props["VersioningConfiguration"]["Status"] == "Enabled"
        rules = props["LifecycleConfiguration"]["Rules"]
        assert rules, name
        if props.get("ObjectLockEnabled"):  # the audit trail never expires: deleting it is a decision
            assert all("ExpirationInDays" not in r and "NoncurrentVersionExpiration" not in r for r in rules)
        default = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
            "ServerSideEncryptionByDefault"
        ]
        if "AccessLogs" in name:  # S3 delivers server access logs only to SSE-S3 buckets
            assert default["SSEAlgorithm"] == "AES256"
        else:
            assert default["SSEAlgorithm"] == "aws:kms" and "KMSMasterKeyID" in default, name
            assert "LoggingConfiguration" in props, name
    tls_only = {
        p["Properties"]["Bucket"]["Ref"]
        for p in synth.of_type("AWS::S3::BucketPolicy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s["Effect"] == "Deny"
        and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
    }
    assert tls_only == set(buckets)


def test_key_rotates_and_lets_only_named_services_use_it(synth):
    synth.template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    [key] = synth.of_type("AWS::KMS::Key").values()
    services: dict[str, list] = {}
    for statement in key["Properties"]["KeyPolicy"]["Statement"]:
        service = statement["Principal"].get("Service")
        if service:
            services.setdefault(json.dumps(service), []).append(statement.get("Condition"))
    # EventBridge (the two DLQs) is held to its two rules, CloudWatch (alarms to the topic) to this account.
    [events] = [c for s, c in services.items() if "events.amazonaws.com" in s]
    rules = sorted(json.dumps(c["ArnEquals"]["aws:SourceArn"]) for c in events)
    assert len(rules) == 2
    assert (
        "automated-pharmacist-campaign-failures" in rules[0]
        and "automated-pharmacist-market-events" in rules[1]
    )
    [alarms] = [c for s, c in services.items() if "cloudwatch.amazonaws.com" in s]
    assert all(c["StringEquals"] for c in alarms)


def test_approvals_table_has_pitr_customer_managed_key_and_ttl(synth):
    synth.template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": Match.any_value()},
            "TimeToLiveSpecification": {"AttributeName": "ttl", "Enabled": True},
        },
    )


def test_the_table_and_the_local_runtime_share_the_sparse_open_waits_index(synth):
    from coach.approvals.store import table_definition

    [table] = synth.of_type("AWS::DynamoDB::Table").values()
    [index] = table["Properties"]["GlobalSecondaryIndexes"]
    [local] = table_definition("approvals")["GlobalSecondaryIndexes"]
    assert index["IndexName"] == local["IndexName"] and index["KeySchema"] == local["KeySchema"]
    assert index["Projection"]["ProjectionType"] == "INCLUDE"
    assert sorted(index["Projection"]["NonKeyAttributes"]) == sorted(local["Projection"]["NonKeyAttributes"])
    # what it shows: who is asked, for which client, until when; never the task token or the recipient's address
    assert not {"task_token", "recipient", "csrf_token"} & set(index["Projection"]["NonKeyAttributes"])


def test_the_open_waits_gauge_runs_every_5_minutes_reading_only_what_it_needs(synth):
    [rule] = [
        r["Properties"]
        for r in synth.of_type("AWS::Events::Rule").values()
        if r["Properties"].get("ScheduleExpression")
    ]
    assert rule["ScheduleExpression"] == "rate(5 minutes)"
    [target] = rule["Targets"]
    assert target["Arn"]["Fn::GetAtt"][0].startswith("Functionsopenwaits")
    granted = {
        action
        for name, statement in statements(synth)
        if name.startswith("Functionsopenwaits")
        for action in as_list(statement["Action"])
    }
    assert not {a for a in granted if a.startswith(("dynamodb:Put", "dynamodb:Update", "dynamodb:Delete"))}
    assert {"dynamodb:Query", "dynamodb:GetItem", "states:DescribeExecution"} <= granted
    assert not {a for a in granted if a.startswith(("s3:", "ses:", "states:Send", "states:Start"))}
    assert "STATE_MACHINE_ARN" in functions(synth)["open_waits"]["Environment"]["Variables"]


def test_state_machine_logs_errors_without_execution_data_and_traces(synth):
    synth.template.has_resource_properties(
        "AWS::StepFunctions::StateMachine",
        {
            "StateMachineType": "STANDARD",
            "LoggingConfiguration": {
                "Level": "ERROR",
                "IncludeExecutionData": False,
                "Destinations": Match.any_value(),
            },
            "TracingConfiguration": {"Enabled": True},
            "EncryptionConfiguration": Match.object_like({"Type": "CUSTOMER_MANAGED_KMS_KEY"}),
        },
    )


def test_state_machine_is_the_asl_file_with_every_substitution_filled(synth):
    [machine] = synth.of_type("AWS::StepFunctions::StateMachine").values()
    props = machine["Properties"]
    assert "DefinitionS3Location" in props  # the very file in step_definitions/, shipped as an asset
    used = set(
        re.findall(r"\$\{([A-Za-z0-9_]+)\}", (ROOT / "step_definitions" / "campaign.asl.json").read_text())
    )
    assert set(props["DefinitionSubstitutions"]) == used


def test_no_iam_statement_allows_every_action_of_anything(synth):
    for name, statement in statements(synth):
        actions = as_list(statement["Action"])
        assert "*" not in actions, name
        assert not any(a.endswith(":*") for a in actions), (name, actions)


def test_only_the_approval_functions_can_answer_a_waiting_task(synth):
    answering = {
        name.split("ServiceRole")[0].replace("Functions", "")
        for name, s in statements(synth)
        if "states:SendTaskSuccess" in as_list(s["Action"])
    }
    # the approval pages (a person's decision) and approval_request (a decision already recorded, on a redrive)
    assert answering == {"approvalapi", "approvalrequest"}
    starting = {name for name, s in statements(synth) if "states:StartExecution" in as_list(s["Action"])}
    assert {n.split("ServiceRole")[0].replace("Functions", "") for n in starting if "Functions" in n} == {
        "intake"
    }


def test_functions_run_python_311_with_tracing_limits_and_encrypted_logs(synth):
    found = functions(synth)
    assert set(found) == EVERY_FUNCTION
    for name, props in found.items():
        assert props["Runtime"] == "python3.11" and props["TracingConfig"] == {"Mode": "Active"}, name
        assert props["Timeout"] <= 900 and props["ReservedConcurrentExecutions"] >= 1, name
        assert "KmsKeyArn" in props, name
    assert (found["letters"]["MemorySize"], found["letters"]["Timeout"]) == (2048, 900)
    assert found["audience"]["Timeout"] == 900
    for group in synth.of_type("AWS::Logs::LogGroup").values():
        assert "KmsKeyId" in group["Properties"] and "RetentionInDays" in group["Properties"]


def test_every_function_gets_the_whole_environment_with_a_real_approval_url(synth):
    for name, props in functions(synth).items():
        variables = props["Environment"]["Variables"]
        assert set(variables) >= ENVIRONMENT, (name, ENVIRONMENT - set(variables))
        assert variables["CLAIMS_ENGINE"] == "athena"
        assert variables["POWERTOOLS_SERVICE_NAME"] == "automated-pharmacist"
        # settings() refuses an empty APPROVAL_BASE_URL, so every function needs the API's address
        assert "execute-api" in json.dumps(variables["APPROVAL_BASE_URL"]), name
    assert "STATE_MACHINE_ARN" in functions(synth)["intake"]["Environment"]["Variables"]


def rule_with_its_queue(synth, rule_name: str) -> tuple[str, dict, dict, str]:
    """(rule id, rule properties, its target, its dead-letter queue's logical id)."""
    [(rule_id, rule)] = [
        (i, r["Properties"])
        for i, r in synth.of_type("AWS::Events::Rule").items()
        if r["Properties"].get("Name") == rule_name
    ]
    [target] = rule["Targets"]
    return rule_id, rule, target, target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]


@pytest.mark.parametrize(
    ("rule_name", "function"),
    [("automated-pharmacist-market-events", "intake"), ("automated-pharmacist-campaign-failures", "notify")],
)
def test_each_rule_targets_its_function_with_retries_and_its_own_dead_letter_queue(
    synth, rule_name, function
):
    rule_id, rule, target, dlq_id = rule_with_its_queue(synth, rule_name)
    assert target["Arn"]["Fn::GetAtt"][0].startswith(f"Functions{function}")
    # retried 8 times within a day, then kept in the dead-letter queue (never dropped)
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 8, "MaximumEventAgeInSeconds": 86400}
    dlq = synth.of_type("AWS::SQS::Queue")[dlq_id]
    assert dlq["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0].startswith("EncryptionKey")
    assert dlq["Properties"]["MessageRetentionPeriod"] == 14 * 86400
    # EventBridge may write to it, for this rule only
    [policy] = [
        p
        for p in synth.of_type("AWS::SQS::QueuePolicy").values()
        if p["Properties"]["Queues"] == [{"Ref": dlq_id}]
    ]
    [allow] = [st for st in policy["Properties"]["PolicyDocument"]["Statement"] if st["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "events.amazonaws.com"} and allow["Action"] == "sqs:SendMessage"
    assert allow["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]}}}


def test_market_events_reach_intake_by_the_pattern_the_local_runtime_matches(synth):
    from coach.intake import EVENT_PATTERN

    _, rule, _, _ = rule_with_its_queue(synth, "automated-pharmacist-market-events")
    assert rule["EventPattern"] == EVENT_PATTERN


def test_a_failed_timed_out_or_stopped_campaign_reaches_notify_for_the_operator_alert(synth):
    _, rule, _, _ = rule_with_its_queue(synth, "automated-pharmacist-campaign-failures")
    pattern = rule["EventPattern"]
    assert pattern["source"] == ["aws.states"]
    assert pattern["detail-type"] == ["Step Functions Execution Status Change"]
    assert sorted(pattern["detail"]["status"]) == ["ABORTED", "FAILED", "TIMED_OUT"]
    # this stack's campaign state machine only
    assert "automated-pharmacist-campaign" in json.dumps(pattern["detail"]["stateMachineArn"])
    # notify reads which state the execution stopped in, from the history of this state machine's executions only
    [history] = [s for _, s in statements(synth) if "states:GetExecutionHistory" in as_list(s["Action"])]
    assert "execution:automated-pharmacist-campaign:*" in json.dumps(history["Resource"])


def test_approval_endpoint_is_throttled_logged_without_paths_and_behind_waf(synth):
    [stage] = synth.of_type("AWS::ApiGateway::Stage").values()
    props = stage["Properties"]
    settings = props["MethodSettings"][0]
    assert settings["ThrottlingRateLimit"] == 20 and settings["DataTraceEnabled"] is False
    log_format = props["AccessLogSetting"]["Format"]
    assert "$context.path" not in log_format and "querystring" not in log_format.lower()
    synth.template.has_resource_properties(
        "AWS::WAFv2::WebACL",
        {
            "Rules": Match.array_with(
                [
                    Match.object_like(
                        {"Statement": {"RateBasedStatement": Match.object_like({"AggregateKeyType": "IP"})}}
                    )
                ]
            )
        },
    )
    assert len(synth.of_type("AWS::WAFv2::WebACLAssociation")) == 1
    synth.template.has_resource_properties(
        "AWS::ApiGateway::RestApi", {"EndpointConfiguration": {"Types": ["REGIONAL"]}}
    )
    methods = {m["Properties"]["HttpMethod"] for m in synth.of_type("AWS::ApiGateway::Method").values()}
    assert methods == {"GET", "HEAD", "POST"}


def test_claims_table_uses_partition_projection_and_athena_is_capped(synth):
    synth.template.has_resource_properties(
        "AWS::Glue::Table",
        {
            "TableInput": Match.object_like(
                {
                    "Name": "claims",
                    "PartitionKeys": [{"Name": "fill_month", "Type": "string"}],
                    "Parameters": Match.object_like(
                        {
                            "projection.enabled": "true",
                            "projection.fill_month.type": "date",
                            "projection.fill_month.format": "yyyy-MM",
                        }
                    ),
                }
            )
        },
    )
    names = {t["Properties"]["TableInput"]["Name"] for t in synth.of_type("AWS::Glue::Table").values()}
    assert names == {"claims", "members", "drugs", "clients"}
    synth.template.has_resource_properties(
        "AWS::Athena::WorkGroup",
        {
            "WorkGroupConfiguration": Match.object_like(
                {
                    "EnforceWorkGroupConfiguration": True,
                    "BytesScannedCutoffPerQuery": Match.any_value(),
                    "ResultConfiguration": Match.object_like(
                        {"EncryptionConfiguration": Match.object_like({"EncryptionOption": "SSE_KMS"})}
                    ),
                }
            )
        },
    )


def test_alarms_notify_an_encrypted_topic(synth):
    synth.template.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": Match.any_value()})
    synth.template.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "ops@pbm.example"}
    )
    alarms = synth.of_type("AWS::CloudWatch::Alarm").values()
    assert {a["Properties"]["MetricName"] for a in alarms} >= {
        "ExecutionsFailed",
        "ApproximateNumberOfMessagesVisible",
    }
    assert all(a["Properties"]["AlarmActions"] for a in alarms)
    assert len(synth.of_type("AWS::CloudWatch::Dashboard")) == 1


def test_app_without_a_built_dependency_layer_says_to_run_make_synth(tmp_path):
    app = cdk.App(outdir=str(tmp_path / "out"), context={"deps_layer_dir": str(tmp_path / "missing")})
    with pytest.raises(SystemExit) as exit_:
        build(app)
    assert "make synth" in str(exit_.value.code)


def test_an_existing_lake_is_read_only_under_its_prefix_and_still_passes_the_checks():
    from tests.infra.synth import EXTERNAL_LAKE

    synth = synthesized(external_lake=True)
    for pack in synth.report["pluginReports"]:
        assert pack["conclusion"] == "success" and pack["violations"] == [], pack["pluginName"]
    assert len(synth.of_type("AWS::S3::Bucket")) == 5  # no lake bucket of its own
    lake_statements = [s for _, s in statements(synth) if "pbm-claims-lake" in json.dumps(s["Resource"])]
    assert lake_statements and all(
        not any(a.startswith(("s3:Put", "s3:Delete")) for a in as_list(s["Action"])) for s in lake_statements
    )
    assert all(
        "extracts/v1" in json.dumps(r)
        for s in lake_statements
        for r in as_list(s["Resource"])
        if "*" in json.dumps(r)
    )
    key_statements = [
        s for _, s in statements(synth) if EXTERNAL_LAKE["lake_key_arn"] in json.dumps(s["Resource"])
    ]
    assert [as_list(s["Action"]) for s in key_statements] == [["kms:Decrypt"]]
    for name, props in functions(synth).items():
        variables = props["Environment"]["Variables"]
        assert variables["APPROVAL_BASE_URL"] == "https://approvals.pbm.example", name
        assert variables["LAKE_URI"] == "s3://pbm-claims-lake/extracts/v1/", name
