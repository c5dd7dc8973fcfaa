"""The market feeds (docs/feeds.md): their state table, and one EventBridge Scheduler schedule per FDA feed that
invokes the feeds function with `{"feed": "<name>"}` — retried, then kept in a KMS-encrypted dead-letter queue."""

import json

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from coach.feeds import SOURCES
from constructs import Construct

from stacks.constructs.nag import acknowledge
from stacks.constructs.resources import dead_letter_queue, key_value_table

# UTC. FDA publishes enforcement reports weekly (openFDA's /status is read daily, so a new week is seen the next
# morning and an unchanged one costs one request), Drugs@FDA weekly on Tuesday, the Orange Book monthly (read weekly:
# a patent expiry is raised by date, N days ahead) and the NDC directory daily (read first: the others resolve NDCs
# from it).
SCHEDULES = {
    "ndc-directory": "cron(0 5 * * ? *)",
    "fda-recalls": "cron(0 6 * * ? *)",
    "drugs-at-fda": "cron(30 6 ? * WED *)",
    "orange-book": "cron(0 7 ? * MON *)",
}
RETRY_ATTEMPTS = 2  # a failed poll also reads from its watermark at its next schedule
assert set(SCHEDULES) == set(SOURCES)


class FeedStateTable(Construct):
    """Per feed, a watermark and content hashes (coach/adapters/feed_state.py: `pk` the feed, `sk` the key)."""

    def __init__(self, scope: Construct, id: str, *, key: kms.IKey) -> None:
        super().__init__(scope, id)
        self.table = key_value_table(self, key)
        acknowledge(
            self.table,
            {
                "HIPAA.Security-DynamoDBInBackupPlan": "Point-in-time recovery (35 days) is on; the feeds can "
                "also rebuild it from FDA's files (a lost watermark re-reads the last window)."
            },
        )


class FeedSchedules(Construct):
    def __init__(self, scope: Construct, id: str, *, function: lambda_.IFunction, key: kms.IKey) -> None:
        super().__init__(scope, id)
        self.dlq = dead_letter_queue(self, key, of="the feed schedules")
        self.role = iam.Role(
            self,
            "SchedulerRole",
            # only this account's schedules may use the role (the confused-deputy guard AWS documents)
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
            ),
            description="EventBridge Scheduler: invoke the feeds function; its dead letters to the feed queue",
        )
        self.role.add_to_policy(
            iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[function.function_arn])
        )
        self.role.add_to_policy(
            iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[self.dlq.queue_arn])
        )
        self.role.add_to_policy(
            iam.PolicyStatement(actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[key.key_arn])
        )
        self.schedules = {
            feed: scheduler.CfnSchedule(
                self,
                f"{feed}-schedule",
                description=f"Poll the {feed} feed",
                schedule_expression=expression,
                schedule_expression_timezone="UTC",
                flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(
                    mode="FLEXIBLE", maximum_window_in_minutes=15
                ),
                target=scheduler.CfnSchedule.TargetProperty(
                    arn=function.function_arn,
                    role_arn=self.role.role_arn,
                    input=json.dumps({"feed": feed}),
                    retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                        maximum_retry_attempts=RETRY_ATTEMPTS, maximum_event_age_in_seconds=6 * 3600
                    ),
                    dead_letter_config=scheduler.CfnSchedule.DeadLetterConfigProperty(arn=self.dlq.queue_arn),
                ),
            )
            for feed, expression in SCHEDULES.items()
        }
