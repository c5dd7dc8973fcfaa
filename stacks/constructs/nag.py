"""cdk-nag acknowledgements: per construct, each with its reason (listed in docs/security.md)."""

from aws_cdk import Acknowledgment, Validations
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
        *(Acknowledgment(id=qualified(rule), reason=reason) for rule, reason in reasons.items()))


# Wildcards this stack uses on purpose, by pattern; anything else still fails the synth.
ALLOWED_WILDCARDS: list[tuple[str, str]] = [
    (r"^Action::(s3:(GetObject|GetBucket|List|DeleteObject|Abort|PutObjectLegalHold|PutObjectRetention|"
     r"PutObjectTagging|PutObjectVersionTagging|GetObjectVersion)\*|kms:(ReEncrypt|GenerateDataKey)\*|"
     r"dynamodb:(BatchGetItem|GetRecords|GetShardIterator|Query|GetItem|Scan|ConditionCheckItem|BatchWriteItem|"
     r"PutItem|UpdateItem|DeleteItem|DescribeTable)\*?)$",
     "Action groups of CDK's grant helpers; every one is scoped to this stack's own bucket, key or table."),
    (r"^Resource::<[A-Za-z0-9]+\.Arn>/(campaigns|quarantine|map-results|athena)/\*$",
     "Object keys under one prefix of this stack's own bucket (campaign data is keyed by campaign id)."),
    (r"^Resource::<[A-Za-z0-9]+\.Arn>/\*$",
     "Objects of one bucket of this stack (the claims lake, read-only) or the indexes of its one table."),
    (r"^Resource::<[A-Za-z0-9]+\.Arn>/index/\*$", "The indexes of this stack's approvals table."),
    (r"^Resource::<Functions[A-Za-z0-9_]+\.Arn>:\*$", "Versions and aliases of this stack's own functions."),
    (r"^Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:(execution|mapRun):"
     r"automated-pharmacist-campaign[/*]\*?$", "Executions and map runs of this stack's own state machine."),
    (r"^Resource::arn:<AWS::Partition>:glue:<AWS::Region>:<AWS::AccountId>:table/automated_pharmacist/\*$",
     "The tables of this stack's own Glue database."),
    (r"^Resource::\*$", "X-Ray trace upload and SES/Logs actions that support no resource-level scoping."),
]


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


def acknowledge_policy_wildcards(policy_construct: IConstruct) -> list[tuple[str, str]]:
    """Acknowledge each IAM5 finding of an IAM policy whose evidence matches ALLOWED_WILDCARDS."""
    import re

    from aws_cdk import Stack

    cfn = policy_construct.node.default_child
    document = Stack.of(policy_construct).resolve(cfn.policy_document)  # type: ignore[union-attr]
    evidence: set[str] = set()
    for statement in document.get("Statement", []):
        for action in _as_list(statement.get("Action")):
            if "*" in action:
                evidence.add(f"Action::{action}")
        for resource in _as_list(statement.get("Resource")):
            text = render(resource)
            if "*" in text:
                evidence.add(f"Resource::{text}")
    acknowledged = []
    for item in sorted(evidence):
        reason = next((why for pattern, why in ALLOWED_WILDCARDS if re.match(pattern, item)), None)
        if reason:
            acknowledge(policy_construct, {f"AwsSolutions-IAM5[{item}]": reason})
            acknowledged.append((item, reason))
    return acknowledged


def _as_list(value: object) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
