"""The synthesised template: the properties a health plan's security review asks about, and cdk-nag's verdict."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

import aws_cdk as cdk
from aws_cdk.assertions import Match, Template

from app import build

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory):
    base = tmp_path_factory.mktemp("cdk")
    (base / "deps" / "python").mkdir(parents=True)
    app = cdk.App(outdir=str(base / "out"), context={"deps_layer_dir": str(base / "deps"),
                                                     "sender_email": "pharmacist@pbm.example",
                                                     "alarm_email": "ops@pbm.example"})
    stack = build(app)
    app.synth()
    report = json.loads((base / "out" / "validation-report.json").read_text())
    return Template.from_stack(stack), report, base / "out" / f"{stack.stack_name}.template.json"


def resources(template, kind):
    return template.find_resources(kind)


def test_cdk_nag_packs_pass_with_every_finding_acknowledged_with_a_reason(synthesized):
    _, report, _ = synthesized
    packs = {p["pluginName"]: p for p in report["pluginReports"]}
    assert {"AwsSolutions", "HIPAA.Security"} <= set(packs)
    for name in ("AwsSolutions", "HIPAA.Security"):
        assert packs[name]["conclusion"] == "success" and packs[name]["violations"] == []
        assert all(v["reason"].strip() for v in packs[name]["suppressedViolations"])


def test_every_acknowledgement_is_listed_in_the_security_doc(synthesized):
    _, report, _ = synthesized
    doc = (ROOT / "docs" / "security.md").read_text()
    for pack in report["pluginReports"]:
        for finding in pack.get("suppressedViolations", []):
            rule = finding["ruleName"].split("[")[0]
            assert rule in doc, f"{rule} is acknowledged but not explained in docs/security.md"


def test_buckets_are_kms_encrypted_tls_only_and_private(synthesized):
    template, _, _ = synthesized
    buckets = resources(template, "AWS::S3::Bucket")
    assert len(buckets) >= 4
    for name, bucket in buckets.items():
        props = bucket["Properties"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
        assert props["VersioningConfiguration"]["Status"] == "Enabled"
        algorithm = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
        if "AccessLogs" not in name:
            assert algorithm["SSEAlgorithm"] == "aws:kms", name
    policies = resources(template, "AWS::S3::BucketPolicy")
    denies = [s for p in policies.values() for s in p["Properties"]["PolicyDocument"]["Statement"]
              if s["Effect"] == "Deny" and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"]
    assert len(denies) == len(buckets)


def test_key_rotates(synthesized):
    template, _, _ = synthesized
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_approvals_table_has_pitr_and_customer_managed_key(synthesized):
    template, _, _ = synthesized
    template.has_resource_properties("AWS::DynamoDB::Table", {
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": Match.any_value()},
        "TimeToLiveSpecification": {"AttributeName": "ttl", "Enabled": True}})


def test_state_machine_logs_errors_without_execution_data_and_traces(synthesized):
    template, _, _ = synthesized
    template.has_resource_properties("AWS::StepFunctions::StateMachine", {
        "StateMachineType": "STANDARD",
        "LoggingConfiguration": {"Level": "ERROR", "IncludeExecutionData": False, "Destinations": Match.any_value()},
        "TracingConfiguration": {"Enabled": True},
        "EncryptionConfiguration": Match.object_like({"Type": "CUSTOMER_MANAGED_KMS_KEY"})})


def test_state_machine_is_the_asl_file_with_every_substitution_filled(synthesized):
    template, _, _ = synthesized
    import re

    [machine] = resources(template, "AWS::StepFunctions::StateMachine").values()
    props = machine["Properties"]
    assert "DefinitionS3Location" in props  # the very file in step_definitions/, shipped as an asset
    used = set(re.findall(r"\$\{([A-Za-z0-9_]+)\}", (ROOT / "step_definitions" / "campaign.asl.json").read_text()))
    assert set(props["DefinitionSubstitutions"]) == used


def test_no_iam_statement_allows_every_action(synthesized):
    template, _, _ = synthesized
    for name, policy in resources(template, "AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert "*" not in actions, name
            assert not any(a.endswith(":*") for a in actions), (name, actions)


def test_functions_run_python_311_with_tracing_limits_and_encrypted_logs(synthesized):
    template, _, _ = synthesized
    functions = {n: f for n, f in resources(template, "AWS::Lambda::Function").items()
                 if f["Properties"].get("Handler") == "handler.handler"}
    assert len(functions) == 8
    for name, function in functions.items():
        props = function["Properties"]
        assert props["Runtime"] == "python3.11" and props["TracingConfig"] == {"Mode": "Active"}
        assert props["Timeout"] <= 900 and props["ReservedConcurrentExecutions"] >= 1
        assert props["Environment"]["Variables"]["CLAIMS_ENGINE"] == "athena"
    for group in resources(template, "AWS::Logs::LogGroup").values():
        assert "KmsKeyId" in group["Properties"] and "RetentionInDays" in group["Properties"]


def test_market_events_rule_targets_intake_with_retries_and_a_dead_letter_queue(synthesized):
    template, _, _ = synthesized
    template.has_resource_properties("AWS::Events::Rule", {
        "EventPattern": {"source": ["coach.market-feed"], "detail-type": ["Drug Market Event"]},
        "Targets": [Match.object_like({"DeadLetterConfig": Match.any_value(),
                                       "RetryPolicy": Match.object_like({"MaximumRetryAttempts": 8})})]})
    template.has_resource_properties("AWS::SQS::Queue", {"KmsMasterKeyId": Match.any_value()})


def test_approval_endpoint_is_throttled_logged_without_paths_and_behind_waf(synthesized):
    template, _, _ = synthesized
    [stage] = resources(template, "AWS::ApiGateway::Stage").values()
    props = stage["Properties"]
    settings = props["MethodSettings"][0]
    assert settings["ThrottlingRateLimit"] == 20 and settings["DataTraceEnabled"] is False
    log_format = props["AccessLogSetting"]["Format"]
    assert "$context.path" not in log_format and "querystring" not in log_format.lower()
    template.has_resource_properties("AWS::WAFv2::WebACL", {"Rules": Match.array_with([Match.object_like({
        "Statement": {"RateBasedStatement": Match.object_like({"AggregateKeyType": "IP"})}})])})
    assert len(resources(template, "AWS::WAFv2::WebACLAssociation")) == 1
    methods = {m["Properties"]["HttpMethod"] for m in resources(template, "AWS::ApiGateway::Method").values()}
    assert methods == {"GET", "HEAD", "POST"}


def test_claims_table_uses_partition_projection(synthesized):
    template, _, _ = synthesized
    template.has_resource_properties("AWS::Glue::Table", {"TableInput": Match.object_like({
        "Name": "claims",
        "PartitionKeys": [{"Name": "fill_month", "Type": "string"}],
        "Parameters": Match.object_like({"projection.enabled": "true", "projection.fill_month.type": "date",
                                         "projection.fill_month.format": "yyyy-MM"})})})
    template.has_resource_properties("AWS::Athena::WorkGroup", {"WorkGroupConfiguration": Match.object_like({
        "EnforceWorkGroupConfiguration": True,
        "ResultConfiguration": Match.object_like({"EncryptionConfiguration": Match.object_like({
            "EncryptionOption": "SSE_KMS"})})})})


def test_alarms_notify_an_encrypted_topic(synthesized):
    template, _, _ = synthesized
    template.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": Match.any_value()})
    template.has_resource_properties("AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "ops@pbm.example"})
    assert len(resources(template, "AWS::CloudWatch::Alarm")) >= 3
    assert len(resources(template, "AWS::CloudWatch::Dashboard")) == 1


def test_cfn_lint_finds_no_errors(synthesized):
    from cfnlint.api import lint_file

    _, _, path = synthesized
    matches = lint_file(path)
    errors = [str(m) for m in matches if m.rule.id.startswith("E")]
    assert errors == []
