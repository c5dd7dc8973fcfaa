"""One email per person (docs/architecture.md, "Digests"): the queue of wake-ups and the sender that reads it.

approval_request stores each ask in the approvals table and sends one SQS message, delayed by the quiet period, per
ask; approval_digest (one at a time: reserved concurrency 1) reads the person's queued asks and sends them when the
timing rule says so. A wake-up that keeps failing lands in the dead-letter queue (alarmed by Monitoring)."""

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.constructs.functions import Functions
from stacks.constructs.notifications import Notifications
from stacks.constructs.permissions import (
    AUDIT_ITEM_CHANGES,
    AUDIT_KEYS,
    TABLE_READ,
    TABLE_WRITE,
    TABLE_WRITE_KEY,
    allow,
)
from stacks.constructs.resources import dead_letter_queue

QUIET_SECONDS = (
    60  # send a person's asks once none arrived for a minute (a campaign's asks arrive within seconds)
)
MAX_DELAY_SECONDS = 300  # and never hold the first one longer than five minutes (waits are days long)


class Digests(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        functions: Functions,
        table_arn: str,
        notifications: Notifications,
        key: kms.IKey,
    ) -> None:
        super().__init__(scope, id)
        sender: lambda_.Function = functions["approval_digest"]
        asker: lambda_.Function = functions["approval_request"]
        self.dlq = dead_letter_queue(self, key, of="the digest wake-ups")
        self.queue = sqs.Queue(
            self,
            "WakeUps",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            retention_period=Duration.days(4),
            visibility_timeout=Duration.seconds(6 * 60),  # six times the sender's timeout (AWS's advice)
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dlq, max_receive_count=5),
        )
        sender.add_event_source(sources.SqsEventSource(self.queue, batch_size=10))
        timing = {"DIGEST_QUIET_SECONDS": str(QUIET_SECONDS), "DIGEST_MAX_SECONDS": str(MAX_DELAY_SECONDS)}
        for function in (asker, sender):
            for name, value in timing.items():
                function.add_environment(name, value)
        asker.add_environment("DIGEST_QUEUE_URL", self.queue.queue_url)
        allow(asker, ["sqs:SendMessage"], [self.queue.queue_arn])
        allow(asker, ["kms:GenerateDataKey", "kms:Decrypt"], [key.key_arn])  # an encrypted queue's message
        # the sender: the person's queued asks (query, conditional delete), links and digests (put), decisions
        # (get), the email ledger (put, delete); and sends mail
        allow(sender, [*TABLE_READ, *TABLE_WRITE, "dynamodb:DeleteItem"], [table_arn])
        allow(sender, list(TABLE_WRITE_KEY), [key.key_arn])
        sender.add_to_role_policy(notifications.send_statement)
        # as for every writer of the table: no audit item may be written, changed or deleted by it
        sender.add_to_role_policy(
            iam.PolicyStatement(
                effect=iam.Effect.DENY,
                actions=sorted((*AUDIT_ITEM_CHANGES, "dynamodb:PutItem")),
                resources=[table_arn],
                conditions={"ForAnyValue:StringLike": {"dynamodb:LeadingKeys": [AUDIT_KEYS]}},
            )
        )
