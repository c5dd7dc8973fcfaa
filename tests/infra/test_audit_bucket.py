"""The audit trail's bucket in the synthesised template: Object Lock in COMPLIANCE mode for the configured years,
append-only for the two functions that write it, and nobody allowed to delete, unlock or re-time an object."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase

import pytest

from tests.infra.synth import synthesized

WRITERS = {"approval_api", "summary", "clinical_review"}  # clinical_review: a campaign its review ended
# What would let someone remove or alter a locked object, or unlock it, if anything granted it.
TAMPERING = [
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:PutObjectRetention",
    "s3:BypassGovernanceRetention",
    "s3:PutBucketObjectLockConfiguration",
]


@pytest.fixture(scope="module")
def synth():
    return synthesized()


def audit_bucket(synth) -> tuple[str, dict]:
    [(name, bucket)] = [(n, b) for n, b in synth.of_type("AWS::S3::Bucket").items() if "Audit" in n]
    return name, bucket["Properties"]


def as_list(value):
    return value if isinstance(value, list) else [value]


def grants(actions, wanted: str) -> bool:
    """Whether an action list (wildcards included, as IAM reads them) allows the wanted action."""
    return any(fnmatchcase(wanted.lower(), action.lower()) for action in as_list(actions))


def role_of(policy_name: str) -> str:
    """FunctionsapprovalapiServiceRoleDefaultPolicyXXXX → approval_api (Workflow… → the workflow role)."""
    base = policy_name.split("ServiceRole")[0].split("Role")[0]
    names = {
        f"Functions{n.replace('_', '')}": n
        for n in (
            "intake",
            "audience",
            "approval_request",
            "clinical_review",
            "approval_api",
            "notify",
            "letters",
            "client_outcome",
            "summary",
        )
    }
    return names.get(base, base)


def touches(resource, bucket_id: str) -> bool:
    text = json.dumps(resource)
    return bucket_id in text or text == '"*"'


def test_audit_bucket_locks_every_object_for_six_years_in_compliance_mode(synth):
    name, props = audit_bucket(synth)
    assert props["ObjectLockEnabled"] is True
    assert props["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Years": 6}},
    }
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    [encryption] = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    default = encryption["ServerSideEncryptionByDefault"]
    assert default["SSEAlgorithm"] == "aws:kms"
    assert default["KMSMasterKeyID"]["Fn::GetAtt"][0].startswith("EncryptionKey")  # the customer-managed key
    assert props["LoggingConfiguration"]["DestinationBucketName"]["Ref"].startswith("StorageAccessLogs")
    assert props["LoggingConfiguration"]["LogFilePrefix"] == "audit/"
    assert all(props["PublicAccessBlockConfiguration"].values())
    assert synth.resources[name]["DeletionPolicy"] == "Retain"


def test_audit_retention_follows_the_auditRetentionYears_context():
    other = synthesized(audit_retention_years=10)
    _, props = audit_bucket(other)
    assert props["ObjectLockConfiguration"]["Rule"]["DefaultRetention"] == {"Mode": "COMPLIANCE", "Years": 10}
    for pack in other.report["pluginReports"]:
        assert pack["conclusion"] == "success" and pack["violations"] == [], pack["pluginName"]


def test_only_the_approval_pages_and_the_summary_write_the_trail_and_only_put_under_audit(synth):
    bucket_id, _ = audit_bucket(synth)
    writers = set()
    for policy_name, policy in synth.of_type("AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            resources = as_list(statement["Resource"])
            if statement["Effect"] != "Allow" or not any(bucket_id in json.dumps(r) for r in resources):
                continue
            writers.add(role_of(policy_name))
            assert as_list(statement["Action"]) == ["s3:PutObject"], (policy_name, statement["Action"])
            assert resources == [{"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, "/audit/*"]]}]
    assert writers == WRITERS
    # each writer can make the object's data key (SSE-KMS)
    for policy_name, policy in synth.of_type("AWS::IAM::Policy").items():
        if role_of(policy_name) in WRITERS:
            assert any(
                grants(s["Action"], "kms:GenerateDataKey") and "EncryptionKey" in json.dumps(s["Resource"])
                for s in policy["Properties"]["PolicyDocument"]["Statement"]
            ), policy_name


def test_nobody_may_delete_unlock_or_retime_an_audit_object(synth):
    bucket_id, _ = audit_bucket(synth)
    # no identity policy allows it on the bucket (or on "*")
    for policy_name, policy in synth.of_type("AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Effect"] == "Allow" and any(
                touches(r, bucket_id) for r in as_list(statement["Resource"])
            ):
                for action in TAMPERING:
                    assert not grants(statement["Action"], action), (policy_name, action)
    # and the bucket policy denies it to every principal, whatever an identity policy might say later
    [policy] = [
        p
        for p in synth.of_type("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert not [s for s in statements if s["Effect"] == "Allow"]
    [deny] = [s for s in statements if s.get("Sid") == "AuditTrailIsAppendOnly"]
    assert deny["Effect"] == "Deny" and deny["Principal"] == {"AWS": "*"}
    assert set(as_list(deny["Action"])) >= {
        "s3:DeleteObject",
        "s3:DeleteObjectVersion",
        "s3:PutObjectRetention",
        "s3:BypassGovernanceRetention",
    }


def test_only_the_two_writers_are_told_the_audit_bucket(synth):
    bucket_id, _ = audit_bucket(synth)
    told = set()
    for logical, function in synth.of_type("AWS::Lambda::Function").items():
        variables = function["Properties"].get("Environment", {}).get("Variables", {})
        if "AUDIT_BUCKET" in variables:
            assert variables["AUDIT_BUCKET"] == {"Ref": bucket_id}
            told.add(role_of(logical[:-8]))
    assert told == WRITERS


@pytest.mark.parametrize("years", ["0", "101"])
def test_a_retention_s3_cannot_keep_is_refused_at_synth(tmp_path, years):

    from app import build
    from tests.infra.synth import stub_app

    with pytest.raises(ValueError, match="auditRetentionYears"):
        build(stub_app(tmp_path, auditRetentionYears=years))
