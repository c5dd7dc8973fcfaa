"""Market events: an EventBridge rule on the default bus → the intake function (retries, then a KMS DLQ)."""

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from coach.intake import EVENT_PATTERN
from constructs import Construct

from stacks.constructs.nag import acknowledge


class Intake(Construct):
    def __init__(self, scope: Construct, id: str, *, function: lambda_.IFunction, key: kms.IKey) -> None:
        super().__init__(scope, id)
        self.dlq = sqs.Queue(self, "DeadLetters", encryption=sqs.QueueEncryption.KMS, encryption_master_key=key,
                             enforce_ssl=True, retention_period=Duration.days(14))
        acknowledge(self.dlq, {"AwsSolutions-SQS3": "This queue is itself the dead-letter queue of the intake rule."})
        self.rule = events.Rule(
            self, "MarketEvents", description="Drug market events start campaigns",
            event_pattern=events.EventPattern(source=EVENT_PATTERN["source"], detail_type=EVENT_PATTERN["detail-type"]),
            targets=[targets.LambdaFunction(function, dead_letter_queue=self.dlq, retry_attempts=8,
                                            max_event_age=Duration.hours(24))])
