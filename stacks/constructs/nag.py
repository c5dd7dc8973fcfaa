"""cdk-nag acknowledgements: per construct, each with its reason (listed in docs/security.md).

IAM5 (wildcard) findings are acknowledged one by one, by their evidence, and only when the evidence matches a
reviewed pattern below; a new wildcard anywhere else still fails the synth. No wildcard *action* is acknowledged at
all (permissions.py names every action), and no AWS managed policy on a function role (IAM4 is not acknowledged
for them): each function writes only to its own log group."""

import re

from aws_cdk import Acknowledgment, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import IConstruct

PACKS = ("AwsSolutions", "HIPAA.Security")


def qualified(rule: str) -> str:
    """cdk-nag v3 ids are '<pack>::<rule>'; rules here are written without the pack for readability."""
    for pack in PACKS:
        if rule.startswith(pack + "-"):
            return f"{pack}::{rule}"
    return rule


def acknowledge(construct: IConstruct, reasons: dict[str, str]) -> None:
    Validations.of(construct).acknowledge(
        *(Acknowledgment(id=qualified(rule), reason=reason) for rule, reason in reasons.items())
    )


ALLOWED_WILDCARDS: list[tuple[str, str]] = [
    (
        r"^Resource::<Storage(Data|Letters|AthenaResults|Audit)[A-F0-9]{8}\.Arn>/"
        r"(campaigns|quarantine|map-results|athena|audit|specimens|prescriber-notices)/\*$",
        "Object keys under one prefix of this stack's own bucket (campaign data is keyed by campaign id; "
        "the audit trail under `audit/`, put only; the approval pages' specimen letters under `specimens/`; "
        "prescriber notices under `prescriber-notices/`).",
    ),
    (
        r"^Resource::(<StorageLake[A-F0-9]{8}\.Arn>|arn:<AWS::Partition>:s3:::[a-z0-9.-]+)/([^*]+/)?\*$",
        "The claims lake's objects (under lake_prefix), read-only, for the audience query.",
    ),
    (
        r"^Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:(execution|mapRun):"
        r"automated-pharmacist-campaign[:/]\*$",
        "Executions, Distributed Map child executions and map runs of this stack's own state machine.",
    ),
    (
        r"^Resource::arn:<AWS::Partition>:glue:<AWS::Region>:<AWS::AccountId>:table/automated_pharmacist/\*$",
        "The tables of this stack's own Glue database.",
    ),
]
# Resource "*" is acknowledged only when every statement using it is limited to these actions.
UNSCOPABLE_ACTIONS = {
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
}
UNSCOPABLE_REASON = "X-Ray trace upload and Step Functions' log delivery set-up: actions that support no resource-level scoping."


def render(value: object) -> str:
    """A resolved CloudFormation value written the way cdk-nag writes it in a finding id."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        if "Fn::GetAtt" in value:
            logical, attribute = value["Fn::GetAtt"]
            return f"<{logical}.{attribute}>"
        if "Ref" in value:
            return f"<{value['Ref']}>"
        if "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            return separator.join(render(part) for part in parts)
    return str(value)


def _as_list(value: object) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def acknowledge_policy_wildcards(policy_construct: IConstruct) -> list[tuple[str, str]]:
    """Acknowledge each IAM5 finding of an IAM policy whose evidence matches a reviewed pattern."""
    cfn = policy_construct.node.default_child
    document = Stack.of(policy_construct).resolve(cfn.policy_document)  # type: ignore[union-attr]
    evidence: dict[str, str | None] = {}
    for statement in document.get("Statement", []):
        actions = _as_list(statement.get("Action"))
        for action in actions:
            if "*" in action:
                evidence[f"Action::{action}"] = None
        for resource in _as_list(statement.get("Resource")):
            text = render(resource)
            if text == "*":
                unscopable = set(actions) <= UNSCOPABLE_ACTIONS
                if evidence.get("Resource::*", UNSCOPABLE_REASON) and unscopable:
                    evidence["Resource::*"] = UNSCOPABLE_REASON
                else:
                    evidence["Resource::*"] = ""  # some statement uses "*" for a scopable action: no pass
            elif "*" in text:
                evidence[f"Resource::{text}"] = None
    acknowledged = []
    for item, reason in sorted(evidence.items()):
        if reason is None:
            reason = next((why for pattern, why in ALLOWED_WILDCARDS if re.match(pattern, item)), None)
        if reason:
            acknowledge(policy_construct, {f"AwsSolutions-IAM5[{item}]": reason})
            acknowledged.append((item, reason))
    return acknowledged


def acknowledge_roles(functions: list[lambda_.Function], *roles: iam.IRole) -> None:
    """The generated policies of the function and workflow roles: wildcard evidence one by one, and the rest."""
    for role in [f.role for f in functions if f.role] + list(roles):
        policy = role.node.try_find_child("DefaultPolicy")
        if policy is None:
            continue
        acknowledge_policy_wildcards(policy)
        acknowledge(
            policy,
            {
                "HIPAA.Security-IAMNoInlinePolicy": "One least-privilege policy per role, generated from the grants "
                "in this stack; never shared, so a managed policy would add nothing."
            },
        )
