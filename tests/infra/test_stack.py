"""The synthesised template: the properties a health plan's security review asks about, and cdk-nag's verdict."""

from __future__ import annotations

import json
import re
from fnmatch import fnmatchcase

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
    "clinical_review",
    "approval_digest",
    "notify",
    "letters",
    "client_outcome",
    "summary",
    "open_waits",
    "feeds",
    "prescribers",  # issue 17: plans the prescriber notices
    "prescriber_notices",
    "measure_outcomes",  # after the follow-up (docs/outcomes.md)
}
ENVIRONMENT = {
    "DATA_BUCKET",
    "LETTERS_BUCKET",
    "APPROVALS_TABLE",
    "SENDER_EMAIL",
    "APPROVAL_BASE_URL",
    "LAKE_URI",
    "BATCH_SIZE",
    "ATHENA_WORKGROUP",
    "ATHENA_DATABASE",
    "ATHENA_OUTPUT",
    "OPERATOR_EMAIL",
    "SES_CONFIGURATION_SET",
    "FEED_STATE_TABLE",
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


def acknowledgement_rows(doc: str) -> list[tuple[str, list[str], str]]:
    """(rule, resource patterns, reason) per row of the acknowledgement table in docs/security.md. The resource cell
    is a comma-separated list of construct paths (without the stack), each a path, a glob (`Functions/*`) or words
    with the glob in parentheses (`every function (Functions/*)`)."""
    table = doc.split("## cdk-nag acknowledgements", 1)[1]
    rows = []
    for line in table.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("| ") or len(cells) < 3 or cells[0] in ("rule", "---"):
            continue
        patterns = []
        for entry in cells[1].split(", "):
            inside = re.search(r"\(([^)]+)\)$", entry)
            patterns.append(inside.group(1) if inside else entry)
        rows.append((cells[0], patterns, "|".join(cells[2:])))
    return rows


def acknowledged_path(construct_path: str) -> str:
    """AutomatedPharmacist/Functions/intakeServiceRole/DefaultPolicy/Resource → Functions/intake: a role and its
    policy are listed under their owner (a function, the workflow's Role)."""
    path = construct_path.split("/", 1)[1].removesuffix("/Resource").removesuffix("/DefaultPolicy")
    return re.sub(r"(?<=[a-z_])ServiceRole$", "", path).removesuffix("/ServiceRole")


def test_every_acknowledgement_is_listed_in_the_security_doc(synth):
    """Each acknowledged finding has a row naming its rule and its resource, with the reason given in the code
    (findings CDK acknowledges itself, outside the cdk-nag packs, carry CDK's wording and are explained instead)."""
    rows = acknowledgement_rows((ROOT / "docs" / "security.md").read_text())
    assert rows
    for pack in synth.report["pluginReports"]:
        ours = pack["pluginName"] in ("AwsSolutions", "HIPAA.Security")
        for finding in pack.get("suppressedViolations", []):
            rule = finding["ruleName"].split("[")[0]
            assert [r for r, _, _ in rows if r == rule], (
                f"{rule} is acknowledged but not explained in docs/security.md"
            )
            for construct in finding["violatingConstructs"]:
                path = acknowledged_path(construct["constructPath"])
                named = [
                    reason
                    for r, patterns, reason in rows
                    if r == rule
                    and any(fnmatchcase(path, p) for p in patterns)
                    and (reason == finding["reason"] or not ours)
                ]
                assert named, (
                    f"docs/security.md: no {rule} row names {path} with its reason: {finding['reason']}"
                )


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
    assert len(rules) == 3
    assert (
        "automated-pharmacist-campaign-failures" in rules[0]
        and "automated-pharmacist-feed-candidates" in rules[1]
        and "automated-pharmacist-market-events" in rules[2]
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
    from coach.adapters.dynamodb import table_definition

    [table] = [t for name, t in synth.of_type("AWS::DynamoDB::Table").items() if name.startswith("Approvals")]
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
    # the approval and review pages (a person's decision), and approval_request and clinical_review (a decision
    # already recorded, on a redrive)
    assert answering == {"approvalapi", "approvalrequest", "clinicalreview"}
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
    [
        ("automated-pharmacist-market-events", "intake"),
        ("automated-pharmacist-feed-candidates", "intake"),
        ("automated-pharmacist-campaign-failures", "notify"),
    ],
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
    assert names == {"claims", "members", "drugs", "clients", "prescribers"}
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
    # the audience query and the prescriber query read the lake
    assert [as_list(s["Action"]) for s in key_statements] == [["kms:Decrypt"], ["kms:Decrypt"]]
    for name, props in functions(synth).items():
        variables = props["Environment"]["Variables"]
        assert variables["APPROVAL_BASE_URL"] == "https://approvals.pbm.example", name
        assert variables["LAKE_URI"] == "s3://pbm-claims-lake/extracts/v1/", name


def every_identity_statement(synth):
    """(resource, statement) for every statement of every identity policy: AWS::IAM::Policy and ManagedPolicy, and
    the inline Policies of roles, users and groups."""
    for name, resource in synth.resources.items():
        kind, props = resource["Type"], resource.get("Properties", {})
        if kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            documents = [props["PolicyDocument"]]
        elif kind in ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"):
            documents = [policy["PolicyDocument"] for policy in props.get("Policies", [])]
        else:
            continue
        for document in documents:
            for statement in as_list(document["Statement"]):
                yield name, statement


def role_statements(synth, role: str) -> list[dict]:
    """The statements a role holds: its inline policies and every policy attached to it."""
    found = [
        statement
        for policy in synth.resources[role]["Properties"].get("Policies", [])
        for statement in as_list(policy["PolicyDocument"]["Statement"])
    ]
    for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for policy in synth.of_type(kind).values():
            if {"Ref": role} in policy["Properties"].get("Roles", []):
                found += as_list(policy["Properties"]["PolicyDocument"]["Statement"])
    return found


# Resource "*" only for actions that support no resource-level permissions: X-Ray trace upload (every function,
# and the workflow, which also reads sampling rules) and the log-delivery set-up Step Functions makes for its
# log group. Nothing else may name "*", and no action anywhere is a wildcard.
XRAY = {
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
}
LOG_DELIVERY = {
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
}


def test_no_identity_policy_names_a_wildcard_action_and_resource_star_is_only_xray_and_log_delivery(synth):
    wildcards = [
        (name, action)
        for name, statement in every_identity_statement(synth)
        for action in as_list(statement.get("Action", []))
        if "*" in action
    ]
    assert wildcards == []
    assert not [name for name, s in every_identity_statement(synth) if "NotAction" in s or "NotResource" in s]
    on_star: dict[str, set[str]] = {}
    for name, statement in every_identity_statement(synth):
        if statement["Effect"] == "Allow" and "*" in as_list(statement["Resource"]):
            on_star.setdefault(name, set()).update(as_list(statement["Action"]))
    for name, actions in on_star.items():
        assert actions <= XRAY | LOG_DELIVERY, (name, actions - XRAY - LOG_DELIVERY)
    # the allowlist, explicitly: each function uploads traces (two actions, nothing more); only the workflow sets
    # up log delivery
    function_roles = {props["Role"]["Fn::GetAtt"][0] for props in functions(synth).values()}
    for role in function_roles:
        star = [s for s in role_statements(synth, role) if "*" in as_list(s["Resource"])]
        assert [sorted(as_list(s["Action"])) for s in star] == [
            ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]
        ], role
    delivering = {name for name, actions in on_star.items() if actions & LOG_DELIVERY}
    assert len(delivering) == 1 and next(iter(delivering)).startswith("WorkflowRole")


# AWS managed policies grant on "*" and change under us; one is accepted: API Gateway's account-level logging role
# (apigateway.CfnAccount), the role API Gateway itself uses to create and write the execution and access log
# groups of every REST API in the account and region (scoping it to this API would break the others' logging).
MANAGED_POLICIES_ALLOWED = {
    "ApprovalsApiCloudWatchRole": "service-role/AmazonAPIGatewayPushToCloudWatchLogs",
}


def test_no_role_carries_an_aws_managed_policy_but_api_gateways_logging_role(synth):
    found = {}
    for kind in ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"):
        for name, resource in synth.of_type(kind).items():
            arns = resource["Properties"].get("ManagedPolicyArns", [])
            if arns:
                found[name] = [json.dumps(arn) for arn in arns]
    for name, arns in found.items():
        allowed = [policy for prefix, policy in MANAGED_POLICIES_ALLOWED.items() if name.startswith(prefix)]
        assert allowed, (name, arns)
        assert len(arns) == 1 and arns[0].endswith(f':iam::aws:policy/{allowed[0]}"]]}}'), (name, arns)
    assert len(found) == len(MANAGED_POLICIES_ALLOWED)


# Nothing in functions/ or layers/ deletes an S3 object (no delete_object anywhere), so nobody may; and no principal
# may remove object versions or administer a bucket (policy, ACLs, versioning, lifecycle, lock, retention) or the key.
NEVER_GRANTED = [
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:DeleteObjectTagging",
    "s3:DeleteObjectVersionTagging",
    "s3:DeleteBucket",
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "s3:PutBucketAcl",
    "s3:PutObjectAcl",
    "s3:PutObjectVersionAcl",
    "s3:PutBucketOwnershipControls",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutBucketVersioning",
    "s3:PutLifecycleConfiguration",
    "s3:PutEncryptionConfiguration",
    "s3:PutBucketLogging",
    "s3:PutReplicationConfiguration",
    "s3:PutBucketObjectLockConfiguration",
    "s3:PutObjectRetention",
    "s3:PutObjectLegalHold",
    "s3:BypassGovernanceRetention",
    "kms:PutKeyPolicy",
    "kms:CreateGrant",
    "kms:ScheduleKeyDeletion",
    "kms:DisableKey",
]


def test_nobody_may_delete_an_object_or_a_version_or_administer_a_bucket_or_the_key(synth):
    for name, statement in every_identity_statement(synth):
        if statement["Effect"] != "Allow":
            continue
        granted = [a.lower() for a in as_list(statement.get("Action", []))]
        for action in NEVER_GRANTED:  # fnmatch: an action group ("s3:DeleteObject*") counts as what it grants
            assert not any(fnmatchcase(action.lower(), g) for g in granted), (name, action)


def test_each_function_writes_only_to_its_own_encrypted_log_group(synth):
    found = functions(synth)
    groups = {props["LoggingConfig"]["LogGroup"]["Ref"] for props in found.values()}
    assert len(groups) == len(found) == len(EVERY_FUNCTION)  # one log group each
    for name, props in found.items():
        group = props["LoggingConfig"]["LogGroup"]["Ref"]
        assert {"KmsKeyId", "RetentionInDays"} <= set(synth.resources[group]["Properties"]), name
        role = props["Role"]["Fn::GetAtt"][0]
        assert not synth.resources[role]["Properties"].get("ManagedPolicyArns"), name
        logs = [
            s
            for s in role_statements(synth, role)
            if any(a.startswith("logs:") for a in as_list(s["Action"]))
        ]
        assert logs, f"{name} cannot write its logs"
        for statement in logs:
            assert sorted(as_list(statement["Action"])) == ["logs:CreateLogStream", "logs:PutLogEvents"], name
            # the log group's ARN attribute is `arn:...:log-group:<name>:*`: its own streams, nothing else
            assert as_list(statement["Resource"]) == [{"Fn::GetAtt": [group, "Arn"]}], name


def test_every_service_principal_in_a_key_policy_is_held_by_a_condition_and_named_actions(synth):
    for key_id, key in synth.of_type("AWS::KMS::Key").items():
        for statement in key["Properties"]["KeyPolicy"]["Statement"]:
            service = statement["Principal"].get("Service")
            if not service:
                continue
            assert statement.get("Condition"), (key_id, service)
            assert not [a for a in as_list(statement["Action"]) if "*" in a], (key_id, service)
            if service == "delivery.logs.amazonaws.com":  # vended log delivery: this account's logs only
                condition = statement["Condition"]
                assert condition["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}
                assert ":logs:" in json.dumps(condition["ArnLike"]["aws:SourceArn"])
                assert as_list(statement["Action"]) == ["kms:Decrypt"]


def test_glue_tables_declare_exactly_the_lake_schema(synth):
    """Athena reads the lake through these tables: their columns and types are the one schema's, in its order."""
    from coach.lake_schema import GLUE_TYPES, TABLES

    tables = {t["Properties"]["TableInput"]["Name"]: t for t in synth.of_type("AWS::Glue::Table").values()}
    for name, schema in TABLES.items():
        declared = tables[name]["Properties"]["TableInput"]["StorageDescriptor"]["Columns"]
        assert [(c["Name"], c["Type"]) for c in declared] == [
            (c.name, GLUE_TYPES[c.type]) for c in schema.columns
        ]
        partitions = [p["Name"] for p in tables[name]["Properties"]["TableInput"].get("PartitionKeys") or []]
        assert partitions == ([schema.partition] if schema.partition else [])


def test_the_audit_items_in_the_table_are_append_only_for_every_function(synth):
    """No function that may write the approvals table may delete or update an audit item (DynamoDB LeadingKeys
    `audit#*`), and only approval_api may put one (its puts are conditional: never an overwrite), as the Object
    Lock copy is write-once."""
    denies: dict[str, set[str]] = {}
    for name, statement in statements(synth):
        leading = statement.get("Condition", {}).get("ForAnyValue:StringLike", {}).get("dynamodb:LeadingKeys")
        if statement["Effect"] == "Deny" and leading == ["audit#*"]:
            owner = name.split("ServiceRole")[0].replace("Functions", "")
            denies.setdefault(owner, set()).update(as_list(statement["Action"]))
    [approvals] = [t for t in synth.of_type("AWS::DynamoDB::Table") if "Approvals" in t]
    writers = {  # every function allowed to write some item of the approvals table (not another table)
        name.split("ServiceRole")[0].replace("Functions", "")
        for name, s in statements(synth)
        if s["Effect"] == "Allow"
        and approvals in json.dumps(s["Resource"])
        and any(
            a in ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")
            for a in as_list(s["Action"])
        )
    }
    assert writers >= {"approvalapi", "approvalrequest", "clientoutcome", "letters", "notify"}
    assert set(denies) == writers
    for owner, actions in denies.items():
        assert {"dynamodb:DeleteItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem"} <= actions, owner
        assert ("dynamodb:PutItem" in actions) == (owner != "approvalapi"), owner
