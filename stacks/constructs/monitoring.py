"""Alarms to an encrypted SNS topic (no PHI in any alarm), and a dashboard of the campaign workflow."""

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from stacks.constructs.functions import Functions

FIVE_MINUTES = Duration.minutes(5)


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        state_machine: sfn.StateMachine,
        dlq: sqs.IQueue,
        functions: Functions,
        key: kms.IKey,
        alarm_email: str | None,
    ) -> None:
        super().__init__(scope, id)
        self.topic = sns.Topic(self, "Alarms", master_key=key, enforce_ssl=True)
        # CloudWatch publishes alarms to the encrypted topic: the key must let it, for this account's alarms only.
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
            )
        )
        if alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        failures = {
            "CampaignFailed": (
                state_machine.metric_failed(period=FIVE_MINUTES),
                "A campaign execution failed",
            ),
            "CampaignTimedOut": (state_machine.metric_timed_out(period=FIVE_MINUTES), "A campaign timed out"),
            "IntakeDeadLetters": (
                dlq.metric_approximate_number_of_messages_visible(period=FIVE_MINUTES),
                "Market events could not be delivered to intake (see the dead-letter queue)",
            ),
            "AudienceErrors": (
                functions["audience"].metric_errors(period=FIVE_MINUTES),
                "Audience query failures",
            ),
            "ApprovalPageErrors": (
                functions["approval_api"].metric_errors(period=FIVE_MINUTES),
                "The approval pages are failing",
            ),
        }
        for name, (metric, description) in failures.items():
            alarm = cw.Alarm(
                self,
                name,
                metric=metric,
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                alarm_description=description,
                treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            )
            alarm.add_alarm_action(actions.SnsAction(self.topic))
        every = list(functions.by_name.values())
        dashboard = cw.Dashboard(self, "Dashboard", dashboard_name="automated-pharmacist")
        dashboard.add_widgets(
            cw.GraphWidget(
                title="Campaigns",
                left=[
                    state_machine.metric_started(),
                    state_machine.metric_succeeded(),
                    state_machine.metric_failed(),
                ],
            ),
            cw.GraphWidget(
                title="Intake DLQ depth", left=[dlq.metric_approximate_number_of_messages_visible()]
            ),
            cw.GraphWidget(title="Lambda errors", left=[f.metric_errors() for f in every]),
            cw.GraphWidget(
                title="Lambda duration (p90)", left=[f.metric_duration(statistic="p90") for f in every]
            ),
        )
