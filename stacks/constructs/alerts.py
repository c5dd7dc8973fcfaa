"""Operator alerts: a campaign execution that ends FAILED, TIMED_OUT or ABORTED → notify (retries, then a KMS DLQ).

No stage catches its own failure (docs/architecture.md, "Failures, alerts and redrive"): the execution fails at the
failed state so RedriveExecution can resume there, and the alert comes from Step Functions' own status-change event.
"""

from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from coach.notices import failure_event_pattern  # the same pattern the local runtime matches
from constructs import Construct

from stacks.constructs.routed_rule import RuleToFunction

RULE_NAME = "automated-pharmacist-campaign-failures"


class FailureAlerts(RuleToFunction):
    def __init__(
        self, scope: Construct, id: str, *, function: lambda_.IFunction, state_machine_arn: str, key: kms.IKey
    ) -> None:
        pattern = failure_event_pattern(state_machine_arn)
        super().__init__(
            scope,
            id,
            rule_id="CampaignFailures",
            rule_name=RULE_NAME,
            description="A campaign execution that failed, timed out or was stopped alerts the operator",
            pattern=events.EventPattern(
                source=pattern["source"], detail_type=pattern["detail-type"], detail=pattern["detail"]
            ),
            function=function,
            key=key,
        )
