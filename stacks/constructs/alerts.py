"""Operator alerts: a campaign execution that ends FAILED, TIMED_OUT or ABORTED → notify (retries, then a KMS DLQ).

No stage catches its own failure (docs/architecture.md, "Failures, alerts and redrive"): the execution fails at the
failed state so RedriveExecution can resume there, and the alert comes from Step Functions' own status-change event.
"""

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from coach.approvals.notices import failure_event_pattern  # the same pattern the local runtime matches
from constructs import Construct

from stacks.constructs.nag import acknowledge

RETRY_ATTEMPTS = 8
RULE_NAME = "automated-pharmacist-campaign-failures"


class FailureAlerts(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        function: lambda_.IFunction,
        state_machine_arn: str,
        key: kms.IKey,
    ) -> None:
        super().__init__(scope, id)
        rule_arn = Stack.of(self).format_arn(
            service="events",
            resource="rule",
            resource_name=RULE_NAME,
            arn_format=ArnFormat.SLASH_RESOURCE_NAME,
        )
        # EventBridge writes undeliverable events to the KMS-encrypted queue: the key lets it, for this rule only.
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
            self.dlq, {"AwsSolutions-SQS3": "This queue is itself the dead-letter queue of the failure-alert rule."}
        )
        pattern = failure_event_pattern(state_machine_arn)
        self.rule = events.Rule(
            self,
            "CampaignFailures",
            rule_name=RULE_NAME,
            description="A campaign execution that failed, timed out or was stopped alerts the operator",
            event_pattern=events.EventPattern(
                source=pattern["source"], detail_type=pattern["detail-type"], detail=pattern["detail"]
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
