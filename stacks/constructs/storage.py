"""Buckets: KMS (the stack's key), TLS only, no public access, versioned, lifecycle-expired, access-logged; the audit
bucket also has Object Lock in COMPLIANCE mode (nobody, not even the root user, can alter or delete its objects
until their retention ends)."""

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.constructs.nag import acknowledge

ATHENA_RESULTS_DAYS = 30  # query results and UNLOAD output are working files, re-creatable from the lake
AUDIT_PREFIX = "audit/*"  # coach.adapters.audit_archive writes every object under it
# What no principal may do to the audit trail, whatever IAM grants it (Object Lock stops most of it anyway:
# these also stop delete markers and changes to an object's own retention).
AUDIT_DENIED_ACTIONS = [
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:PutObjectRetention",
    "s3:BypassGovernanceRetention",
]


class Storage(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        key: kms.IKey,
        retention_days: int,
        create_lake: bool,
        audit_retention_years: int = 6,
    ) -> None:
        super().__init__(scope, id)
        self.key = key
        # Server access logs: S3 delivers them only to SSE-S3 buckets.
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            versioned=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.OBJECT_WRITER,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(retention_days))],
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            self.access_logs,
            {
                "AwsSolutions-S1": "This is the access-log bucket itself; logging it into itself would loop.",
                "HIPAA.Security-S3BucketLoggingEnabled": "This is the access-log bucket itself.",
                "HIPAA.Security-S3DefaultEncryptionKMS": "S3 server access logs can only be delivered to SSE-S3 buckets.",
                "HIPAA.Security-S3BucketReplicationEnabled": "Single-region deployment; versioning and lifecycle "
                "cover recovery within the region.",
            },
        )
        self.data = self._bucket("Data", "data/", retention_days)
        self.letters = self._bucket("Letters", "letters/", retention_days)
        self.athena_results = self._bucket("AthenaResults", "athena-results/", ATHENA_RESULTS_DAYS)
        # The claims lake is the PBM's extract; without a lake_bucket context the stack keeps one for it.
        self.lake = self._bucket("Lake", "lake/", retention_days, expire=False) if create_lake else None
        self.audit = self._audit_bucket(audit_retention_years)

    def _audit_bucket(self, years: int) -> s3.Bucket:
        """The decision trail: every object is locked for `years` in COMPLIANCE mode as it is written."""
        if not 1 <= years <= 100:  # S3's limit
            raise ValueError(
                f"audit_retention_years (auditRetentionYears) must be between 1 and 100, not {years}"
            )
        bucket = s3.Bucket(
            self,
            "Audit",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            enforce_ssl=True,
            versioned=True,  # Object Lock needs it
            object_lock_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="audit/",
            # Nothing expires: the trail outlives its retention until someone deliberately deletes it.
            lifecycle_rules=[s3.LifecycleRule(abort_incomplete_multipart_upload_after=Duration.days(7))],
            removal_policy=RemovalPolicy.RETAIN,
        )
        # In whole years (CDK's ObjectLockRetention counts days, and a year is not always 365 of them).
        cfn = bucket.node.default_child
        assert isinstance(cfn, s3.CfnBucket)
        cfn.add_property_override(
            "ObjectLockConfiguration",
            {
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Years": years}},
            },
        )
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AuditTrailIsAppendOnly",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=AUDIT_DENIED_ACTIONS,
                resources=[bucket.arn_for_objects("*")],
            )
        )
        acknowledge(
            bucket,
            {
                "HIPAA.Security-S3BucketReplicationEnabled": "Single-region deployment; Object Lock (COMPLIANCE) "
                "and versioning keep every audit object unaltered within the region."
            },
        )
        return bucket

    def _bucket(self, name: str, log_prefix: str, expire_days: int, *, expire: bool = True) -> s3.Bucket:
        rules = [
            s3.LifecycleRule(
                expiration=Duration.days(expire_days) if expire else None,
                noncurrent_version_expiration=Duration.days(30),
                abort_incomplete_multipart_upload_after=Duration.days(7),
            )
        ]
        bucket = s3.Bucket(
            self,
            name,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            enforce_ssl=True,
            versioned=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix=log_prefix,
            lifecycle_rules=rules,
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            bucket,
            {
                "HIPAA.Security-S3BucketReplicationEnabled": "Single-region deployment; versioning and lifecycle "
                "cover recovery within the region."
            },
        )
        return bucket
