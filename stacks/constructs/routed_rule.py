"""An EventBridge rule to one function, as every rule of this stack is delivered: 8 retries within a day, then the
event kept 14 days in a KMS-encrypted dead-letter queue that only this rule may write to (never dropped)."""

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.constructs.resources import dead_letter_queue

RETRY_ATTEMPTS = 8


class RuleToFunction(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        rule_id: str,
        rule_name: str,
        description: str,
        pattern: events.EventPattern,
        function: lambda_.IFunction,
        key: kms.IKey,
    ) -> None:
        super().__init__(scope, id)
        # The ARN from the name: a Ref would make key → rule → function → key a cycle.
        rule_arn = Stack.of(self).format_arn(
            service="events",
            resource="rule",
            resource_name=rule_name,
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
        self.dlq = dead_letter_queue(self, key, of=f"the {rule_name} rule")
        self.rule = events.Rule(
            self,
            rule_id,
            rule_name=rule_name,
            description=description,
            event_pattern=pattern,
            targets=[
                targets.LambdaFunction(
                    function,
                    dead_letter_queue=self.dlq,
                    retry_attempts=RETRY_ATTEMPTS,
                    max_event_age=Duration.hours(24),
                )
            ],
        )
