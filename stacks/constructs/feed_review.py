"""A feed's candidates (`coach.feed.<feed>`): an EventBridge rule → the same intake function, which validates them and
starts the campaign at its clinical review (coach.review; docs/feeds.md, "Clinical review")."""

from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from coach.review.intake import FEED_PATTERN  # the same pattern the local runtime matches candidates against
from constructs import Construct

from stacks.constructs.routed_rule import RuleToFunction

RULE_NAME = "automated-pharmacist-feed-candidates"


class FeedCandidates(RuleToFunction):
    def __init__(self, scope: Construct, id: str, *, function: lambda_.IFunction, key: kms.IKey) -> None:
        (prefix,) = FEED_PATTERN["source"]
        super().__init__(
            scope,
            id,
            rule_id="FeedCandidates",
            rule_name=RULE_NAME,
            description="A feed's candidate starts a campaign whose first stage is a clinical pharmacist's review",
            pattern=events.EventPattern(
                source=events.Match.prefix(prefix["prefix"]), detail_type=FEED_PATTERN["detail-type"]
            ),
            function=function,
            key=key,
        )
