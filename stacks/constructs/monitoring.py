"""Alarms to an encrypted SNS topic, and a dashboard of the campaign workflow."""

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from stacks.constructs.functions import Functions


class Monitoring(Construct):
    def __init__(self, scope: Construct, id: str, *, state_machine: sfn.StateMachine, dlq: sqs.IQueue,
                 functions: Functions, key: kms.IKey, alarm_email: str | None) -> None:
        super().__init__(scope, id)
        self.topic = sns.Topic(self, "Alarms", master_key=key, enforce_ssl=True)
        if alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        alarms = [
            cw.Alarm(self, "CampaignFailed", metric=state_machine.metric_failed(period=Duration.minutes(5)),
                     threshold=1, evaluation_periods=1, alarm_description="A campaign execution failed",
                     treat_missing_data=cw.TreatMissingData.NOT_BREACHING),
            cw.Alarm(self, "IntakeDeadLetters", metric=dlq.metric_approximate_number_of_messages_visible(),
                     threshold=1, evaluation_periods=1, alarm_description="Market events could not be delivered",
                     treat_missing_data=cw.TreatMissingData.NOT_BREACHING),
            cw.Alarm(self, "AudienceErrors", metric=functions["audience"].metric_errors(period=Duration.minutes(5)),
                     threshold=1, evaluation_periods=1, alarm_description="Audience query failures",
                     treat_missing_data=cw.TreatMissingData.NOT_BREACHING),
        ]
        for alarm in alarms:
            alarm.add_alarm_action(actions.SnsAction(self.topic))
        dashboard = cw.Dashboard(self, "Dashboard", dashboard_name="automated-pharmacist")
        dashboard.add_widgets(
            cw.GraphWidget(title="Campaigns", left=[state_machine.metric_started(), state_machine.metric_succeeded(),
                                                    state_machine.metric_failed()]),
            cw.GraphWidget(title="Intake DLQ depth", left=[dlq.metric_approximate_number_of_messages_visible()]),
            cw.GraphWidget(title="Lambda errors", left=[f.metric_errors() for f in functions.by_name.values()]),
            cw.GraphWidget(title="Lambda duration (p90)",
                           left=[f.metric_duration(statistic="p90") for f in functions.by_name.values()]),
        )
