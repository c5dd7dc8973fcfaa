"""The two resource shapes several constructs share, written once: a KMS-encrypted key-value table (`pk`, `sk`,
on demand, point-in-time recovery, never deleted with the stack) and a KMS-encrypted dead-letter queue."""

from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.constructs.nag import acknowledge


def key_value_table(scope: Construct, key: kms.IKey, **options: Any) -> dynamodb.Table:
    """The construct `Table` of `scope`; `options` adds to the shared settings (a TTL attribute, say)."""
    return dynamodb.Table(
        scope,
        "Table",
        partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
        sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
        encryption_key=key,
        deletion_protection=True,
        removal_policy=RemovalPolicy.RETAIN,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        **options,
    )


def dead_letter_queue(scope: Construct, key: kms.IKey, *, of: str) -> sqs.Queue:
    """The construct `DeadLetters` of `scope`: kept 14 days, TLS only; `of` says whose dead letters it holds."""
    queue = sqs.Queue(
        scope,
        "DeadLetters",
        encryption=sqs.QueueEncryption.KMS,
        encryption_master_key=key,
        enforce_ssl=True,
        retention_period=Duration.days(14),
    )
    acknowledge(queue, {"AwsSolutions-SQS3": f"This queue is itself the dead-letter queue of {of}."})
    return queue
