"""Market events: an EventBridge rule on the default bus → the intake function (retries, then a KMS DLQ)."""

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from coach.intake import EVENT_PATTERN  # the same pattern the local runtime matches events against
from constructs import Construct

from stacks.constructs.nag import acknowledge

RETRY_ATTEMPTS = 8
RULE_NAME = "automated-pharmacist-market-events"


class Intake(Construct):
    def __init__(self, scope: Construct, id: str, *, function: lambda_.IFunction, key: kms.IKey) -> None:
        super().__init__(scope, id)
        rule_arn = Stack.of(self).format_arn(
            service="events",
            resource="rule",
            resource_name=RULE_NAME,
            arn_format=ArnFormat.SLASH_RESOURCE_NAME,
        )
        # EventBridge writes undeliverable events to the KMS-encrypted queue: the key must let it, for this rule only
        # (the ARN from the name: a Ref would make key → rule → function → key a cycle).
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],
                conditions={"ArnEquals": {"aws:SourceArn": rule_arn}},
            )
        )
        self.dlq = sqs.Queue(
            self,
            "DeadLetters",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        acknowledge(
            self.dlq, {"AwsSolutions-SQS3": "This queue is itself the dead-letter queue of the intake rule."}
        )
        self.rule = events.Rule(
            self,
            "MarketEvents",
            rule_name=RULE_NAME,
            description="Drug market events start campaigns",
            event_pattern=events.EventPattern(
                source=EVENT_PATTERN["source"], detail_type=EVENT_PATTERN["detail-type"]
            ),
            targets=[
                targets.LambdaFunction(
                    function,
                    dead_letter_queue=self.dlq,
                    retry_attempts=RETRY_ATTEMPTS,
                    max_event_age=Duration.hours(24),
                )
            ],
        )
