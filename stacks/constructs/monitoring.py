"""Alarms to an encrypted SNS topic (no PHI in any alarm), and a dashboard of the campaign workflow.

Metrics come from three places: AWS's own (Step Functions, Lambda, SQS, SES), Step Functions' per-function task
metrics of `approval_request` (every callback wait in the ASL is a `lambda:invoke.waitForTaskToken` of it), and
the functions' Powertools metrics (namespace `AutomatedPharmacist`, dimension `service`; docs/deploy.md)."""

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from stacks.constructs.functions import POWERTOOLS, Functions

FIVE_MINUTES = Duration.minutes(5)
ONE_HOUR = Duration.hours(1)
ONE_DAY = Duration.days(1)
# SES puts an account under review at a 5% bounce rate or a 0.1% complaint rate: alarm no later than that.
SES_REVIEW_BOUNCE_RATE = 0.05
SES_REVIEW_COMPLAINT_RATE = 0.001
BOUNCE_RATE_ALARM = 0.05
COMPLAINT_RATE_ALARM = 0.001
APP_NAMESPACE = POWERTOOLS["POWERTOOLS_METRICS_NAMESPACE"]
APP_DIMENSIONS = {"service": POWERTOOLS["POWERTOOLS_SERVICE_NAME"]}  # Powertools adds it to every metric


def app_metric(name: str, period: Duration = FIVE_MINUTES, statistic: str = "Sum") -> cw.Metric:
    """A metric the functions emit with Powertools (coach.observability)."""
    return cw.Metric(
        namespace=APP_NAMESPACE,
        metric_name=name,
        dimensions_map=APP_DIMENSIONS,
        statistic=statistic,
        period=period,
    )


def callback_metric(function: lambda_.IFunction, name: str, statistic: str = "Sum") -> cw.Metric:
    """Step Functions' task metrics of the function a `waitForTaskToken` state invokes (one per callback wait)."""
    return cw.Metric(
        namespace="AWS/States",
        metric_name=name,
        dimensions_map={"LambdaFunctionArn": function.function_arn},
        statistic=statistic,
        period=FIVE_MINUTES,
    )


def ses_metric(name: str, statistic: str, period: Duration = ONE_HOUR) -> cw.Metric:
    """The account's SES metrics (no dimension): the rates are the ones SES reviews the account on."""
    return cw.Metric(namespace="AWS/SES", metric_name=name, statistic=statistic, period=period)


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        state_machine: sfn.StateMachine,
        dlqs: dict[str, sqs.IQueue],
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
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
            )
        )
        if alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        asks = functions["approval_request"]
        # name: (metric, threshold, description); every alarm fires at metric >= threshold
        alarms: dict[str, tuple[cw.IMetric, float, str]] = {
            "CampaignFailed": (
                state_machine.metric_failed(period=FIVE_MINUTES),
                1,
                "A campaign execution failed",
            ),
            "CampaignTimedOut": (
                state_machine.metric_timed_out(period=FIVE_MINUTES),
                1,
                "A campaign timed out",
            ),
            "IntakeDeadLetters": (
                dlqs["Intake"].metric_approximate_number_of_messages_visible(period=FIVE_MINUTES),
                1,
                "Market events could not be delivered to intake (see the dead-letter queue)",
            ),
            "FailureAlertDeadLetters": (
                dlqs["FailureAlerts"].metric_approximate_number_of_messages_visible(period=FIVE_MINUTES),
                1,
                "A campaign's failure could not be delivered to notify: no operator email was sent for it "
                "(the CampaignFailed alarm still fired; see the dead-letter queue)",
            ),
            "FeedDeadLetters": (
                dlqs["Feeds"].metric_approximate_number_of_messages_visible(period=FIVE_MINUTES),
                1,
                "A feed schedule could not invoke the feeds function (see the dead-letter queue)",
            ),
            "FeedErrors": (
                functions["feeds"].metric_errors(period=FIVE_MINUTES),
                1,
                "A market feed poll failed (its log names the feed and the reason); it retries at its next schedule",
            ),
            "AudienceErrors": (
                functions["audience"].metric_errors(period=FIVE_MINUTES),
                1,
                "Audience query failures (the audience function failed; its log has Athena's reason)",
            ),
            "ApprovalPageErrors": (
                functions["approval_api"].metric_errors(period=FIVE_MINUTES),
                1,
                "The approval pages are failing",
            ),
            "CallbackWaitPastDeadline": (
                app_metric("ApprovalsPastDeadline"),
                1,
                "An approval question passed its final deadline unanswered (after its reminders and the "
                "escalation): that client's branch closed as no response and no letters went out for it",
            ),
            "SesBounceRate": (
                ses_metric("Reputation.BounceRate", "Maximum"),
                BOUNCE_RATE_ALARM,
                "SES bounce rate at 5% or more: SES reviews the account at 5%",
            ),
            "SesComplaintRate": (
                ses_metric("Reputation.ComplaintRate", "Maximum"),
                COMPLAINT_RATE_ALARM,
                "SES complaint rate at 0.1% or more: SES reviews the account at 0.1%",
            ),
            "AuditArchiveFailed": (
                app_metric("AuditArchiveFailed"),
                1,
                "A decision could not be copied to the Object Lock audit bucket (DynamoDB still holds it)",
            ),
        }
        self.alarms: dict[str, cw.Alarm] = {}
        for name, (metric, threshold, description) in alarms.items():
            alarm = cw.Alarm(
                self,
                name,
                metric=metric,
                threshold=threshold,
                evaluation_periods=1,
                comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                alarm_description=description,
                treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            )
            alarm.add_alarm_action(actions.SnsAction(self.topic))
            self.alarms[name] = alarm
        # the open-waits gauge: no retries and no DLQ needed, the next run is 5 minutes away
        self.gauge_schedule = events.Rule(
            self,
            "OpenWaitsGauge",
            description="Counts the approval questions waiting for an answer (dashboard gauge)",
            schedule=events.Schedule.rate(FIVE_MINUTES),
            targets=[targets.LambdaFunction(functions["open_waits"], retry_attempts=0)],
        )
        self.dashboard = cw.Dashboard(self, "Dashboard", dashboard_name="automated-pharmacist")
        self.dashboard.add_widgets(*self._campaign_widgets(state_machine, asks))
        self.dashboard.add_widgets(*self._delivery_widgets(dlqs))
        every = list(functions.by_name.values())
        self.dashboard.add_widgets(
            cw.GraphWidget(title="Lambda errors", left=[f.metric_errors() for f in every], width=12),
            cw.GraphWidget(
                title="Lambda duration (p90)",
                left=[f.metric_duration(statistic="p90") for f in every],
                width=12,
            ),
        )

    @staticmethod
    def _campaign_widgets(state_machine: sfn.StateMachine, asks: lambda_.IFunction) -> list[cw.IWidget]:
        started, answered, declined, timed_out = (
            callback_metric(asks, name).with_(label=label)
            for name, label in (
                ("LambdaFunctionsStarted", "Opened (asks, reminders, escalations)"),
                ("LambdaFunctionsSucceeded", "Approved"),
                ("LambdaFunctionsFailed", "Declined (or failed)"),
                ("LambdaFunctionsTimedOut", "Past deadline (timed out)"),
            )
        )
        # the gauge (functions/open_waits, every 5 minutes): questions waiting now, and the oldest one's age
        open_now = app_metric("ApprovalWaitsOpen", statistic="Maximum").with_(label="Callback waits open now")
        hours = 3_600_000  # the task metrics are in milliseconds
        oldest_now = cw.MathExpression(
            expression="oldest / 3600",
            using_metrics={"oldest": app_metric("OldestApprovalWaitSeconds", statistic="Maximum")},
            label="Oldest open wait, hours (now)",
            period=FIVE_MINUTES,
        )
        age = cw.MathExpression(
            expression=f"longest / {hours}",
            using_metrics={"longest": callback_metric(asks, "LambdaFunctionRunTime", "Maximum")},
            label="Longest callback wait, hours (at its close: answered or timed out)",
            period=FIVE_MINUTES,
        )
        typical = cw.MathExpression(
            expression=f"mean / {hours}",
            using_metrics={"mean": callback_metric(asks, "LambdaFunctionRunTime", "Average")},
            label="Average callback wait, hours (at its close)",
            period=FIVE_MINUTES,
        )
        return [
            cw.GraphWidget(
                title="Campaign executions",
                left=[
                    state_machine.metric_started(label="Started"),
                    state_machine.metric_succeeded(label="Succeeded"),
                    state_machine.metric_failed(label="Failed"),
                    state_machine.metric_timed_out(label="Timed out"),
                ],
                width=8,
            ),
            cw.GraphWidget(
                title="Approval callback waits",
                left=[open_now, started, answered, declined, timed_out],
                width=8,
            ),
            cw.GraphWidget(title="Callback wait age (hours)", left=[oldest_now, age, typical], width=8),
        ]

    @staticmethod
    def _delivery_widgets(dlqs: dict[str, sqs.IQueue]) -> list[cw.IWidget]:
        return [
            cw.GraphWidget(
                title="Approvals per day",
                left=[
                    app_metric("DecisionsApproved", ONE_DAY).with_(label="Approved on the pages"),
                    app_metric("DecisionsDeclined", ONE_DAY).with_(label="Declined on the pages"),
                    app_metric("ApprovalLinksSent", ONE_DAY).with_(label="Approval emails sent"),
                ],
                width=6,
            ),
            cw.GraphWidget(
                title="Letters generated",
                left=[
                    app_metric("LettersGenerated", ONE_HOUR).with_(label="Letters (PDF)"),
                    app_metric("LetterEmailsSent", ONE_HOUR).with_(label="Letters by email"),
                ],
                width=6,
            ),
            cw.GraphWidget(
                title="SES bounces and complaints",
                left=[
                    ses_metric("Bounce", "Sum").with_(label="Bounces"),
                    ses_metric("Complaint", "Sum").with_(label="Complaints"),
                ],
                right=[
                    ses_metric("Reputation.BounceRate", "Maximum").with_(label="Bounce rate"),
                    ses_metric("Reputation.ComplaintRate", "Maximum").with_(label="Complaint rate"),
                ],
                right_annotations=[
                    cw.HorizontalAnnotation(value=BOUNCE_RATE_ALARM, label="bounce alarm (5%)"),
                    cw.HorizontalAnnotation(value=COMPLAINT_RATE_ALARM, label="complaint alarm (0.1%)"),
                ],
                width=6,
            ),
            cw.GraphWidget(
                title="Dead-letter queue depth",
                left=[
                    queue.metric_approximate_number_of_messages_visible(label=name)
                    for name, queue in dlqs.items()
                ],
                width=6,
            ),
        ]
