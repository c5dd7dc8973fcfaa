"""Market events: an EventBridge rule on the default bus → the intake function (retries, then a KMS DLQ)."""

from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from coach.intake import EVENT_PATTERN  # the same pattern the local runtime matches events against
from constructs import Construct

from stacks.constructs.routed_rule import RuleToFunction

RULE_NAME = "automated-pharmacist-market-events"


class Intake(RuleToFunction):
    def __init__(self, scope: Construct, id: str, *, function: lambda_.IFunction, key: kms.IKey) -> None:
        super().__init__(
            scope,
            id,
            rule_id="MarketEvents",
            rule_name=RULE_NAME,
            description="Drug market events start campaigns",
            pattern=events.EventPattern(
                source=EVENT_PATTERN["source"], detail_type=EVENT_PATTERN["detail-type"]
            ),
            function=function,
            key=key,
        )
