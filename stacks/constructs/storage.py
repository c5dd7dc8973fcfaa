"""Encryption key and buckets: KMS (customer-managed, rotated), TLS only, no public access, versioned, logged."""

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.constructs.nag import acknowledge


class Storage(Construct):
    def __init__(self, scope: Construct, id: str, *, retention_days: int) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        self.key = kms.Key(self, "Key", enable_key_rotation=True, alias="alias/automated-pharmacist",
                           description="Automated pharmacist: member data, letters, logs, workflow state",
                           removal_policy=RemovalPolicy.RETAIN)
        self.key.add_to_resource_policy(iam.PolicyStatement(
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
            actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            resources=["*"],
            conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn":
                                    f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:*"}}))
        # Server access logs: S3 delivers them only to SSE-S3 buckets.
        self.access_logs = s3.Bucket(
            self, "AccessLogs", encryption=s3.BucketEncryption.S3_MANAGED, enforce_ssl=True, versioned=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL, object_ownership=s3.ObjectOwnership.OBJECT_WRITER,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(retention_days))],
            removal_policy=RemovalPolicy.RETAIN)
        acknowledge(self.access_logs, {
            "AwsSolutions-S1": "This is the access-log bucket itself; logging it into itself would loop.",
            "HIPAA.Security-S3BucketLoggingEnabled": "This is the access-log bucket itself.",
            "HIPAA.Security-S3DefaultEncryptionKMS": "S3 server access logs can only be delivered to SSE-S3 buckets.",
            "HIPAA.Security-S3BucketReplicationEnabled": "Single-region deployment; versioning and Object retention cover recovery.",
        })
        self.data = self._bucket("Data", "data/", retention_days)
        self.letters = self._bucket("Letters", "letters/", retention_days)
        self.athena_results = self._bucket("AthenaResults", "athena-results/", 30)

    def _bucket(self, name: str, log_prefix: str, expire_days: int) -> s3.Bucket:
        bucket = s3.Bucket(
            self, name, encryption=s3.BucketEncryption.KMS, encryption_key=self.key, bucket_key_enabled=True,
            enforce_ssl=True, versioned=True, block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            server_access_logs_bucket=self.access_logs, server_access_logs_prefix=log_prefix,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(expire_days),
                                              noncurrent_version_expiration=Duration.days(30),
                                              abort_incomplete_multipart_upload_after=Duration.days(7))],
            removal_policy=RemovalPolicy.RETAIN)
        acknowledge(bucket, {"HIPAA.Security-S3BucketReplicationEnabled":
                             "Single-region deployment; versioning and lifecycle cover recovery within the region."})
        return bucket
