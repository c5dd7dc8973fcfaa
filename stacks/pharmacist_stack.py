"""The automated pharmacist: one thin stack composing one construct per concern."""

from pathlib import Path

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.constructs.alerts import FailureAlerts
from stacks.constructs.approvals_api import ApprovalsApi
from stacks.constructs.approvals_table import ApprovalsTable
from stacks.constructs.claims_lake import ClaimsLake
from stacks.constructs.digests import Digests
from stacks.constructs.encryption import Encryption
from stacks.constructs.feed_review import FeedCandidates
from stacks.constructs.feeds import FeedSchedules, FeedStateTable
from stacks.constructs.functions import Functions
from stacks.constructs.intake import Intake
from stacks.constructs.monitoring import Monitoring
from stacks.constructs.nag import acknowledge_roles
from stacks.constructs.notifications import Notifications
from stacks.constructs.permissions import Resources, allow, grant_feeds, grant_least_privilege
from stacks.constructs.prescriber_permissions import grant_prescribers
from stacks.constructs.storage import Storage
from stacks.constructs.workflow import Workflow

ROOT = Path(__file__).resolve().parent.parent
LOG_RETENTION = logs.RetentionDays.ONE_YEAR  # logs carry ids and counts only; member data lives in S3
BATCH_SIZE = 2000  # default members per letters batch (one Distributed Map item); context letters_batch_size


class AutomatedPharmacistStack(Stack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        sender_email: str,
        deps_layer_dir: Path,
        functions_root: Path = ROOT / "functions",
        lake_bucket: str | None = None,
        lake_prefix: str = "",
        lake_key_arn: str | None = None,
        alarm_email: str | None = None,
        operator_email: str | None = None,
        retention_days: int = 2190,
        audit_retention_years: int = 6,
        approval_base_url: str | None = None,
        sender_domain: str | None = None,
        letters_batch_size: int = BATCH_SIZE,
        letters_max_concurrency: int = 50,
        openfda_api_key_secret_arn: str | None = None,
        clinical_reviewer_emails: str | None = None,
        clinical_escalation_emails: str | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, id, **kwargs)  # type: ignore[arg-type]
        key = Encryption(self, "Encryption").key
        storage = Storage(
            self,
            "Storage",
            key=key,
            retention_days=retention_days,
            create_lake=not lake_bucket,
            audit_retention_years=audit_retention_years,
        )
        lake = s3.Bucket.from_bucket_name(self, "LakeBucket", lake_bucket) if lake_bucket else storage.lake
        assert lake is not None
        claims = ClaimsLake(
            self,
            "ClaimsLake",
            lake_bucket=lake,
            lake_prefix=lake_prefix,
            results_bucket=storage.athena_results,
            key=key,
        )
        table = ApprovalsTable(self, "Approvals", key=key).table
        feed_state = FeedStateTable(self, "FeedState", key=key).table
        notifications = Notifications(
            self, "Notifications", sender_email=sender_email, sender_domain=sender_domain
        )
        functions = Functions(
            self,
            "Functions",
            key=key,
            functions_root=functions_root,
            deps_layer_dir=deps_layer_dir,
            log_retention=LOG_RETENTION,
            environment={
                "DATA_BUCKET": storage.data.bucket_name,
                "LETTERS_BUCKET": storage.letters.bucket_name,
                "APPROVALS_TABLE": table.table_name,
                "SENDER_EMAIL": sender_email,
                "LAKE_URI": claims.lake_uri,
                "BATCH_SIZE": str(letters_batch_size),
                "LETTERS_MAX_CONCURRENCY": str(letters_max_concurrency),
                "ATHENA_WORKGROUP": claims.workgroup_name,
                "ATHENA_DATABASE": claims.database,
                "ATHENA_OUTPUT": claims.results_location + "unload/",
                "OPERATOR_EMAIL": operator_email or "",
                "SES_CONFIGURATION_SET": notifications.configuration_set.configuration_set_name,
                "FEED_STATE_TABLE": feed_state.table_name,
            },
        )
        api = ApprovalsApi(
            self, "ApprovalsApi", function=functions["approval_api"], key=key, log_retention=LOG_RETENTION
        )
        workflow = Workflow(
            self,
            "Workflow",
            functions=functions,
            data_bucket=storage.data,
            key=key,
            log_retention=LOG_RETENTION,
        )
        for function in functions.by_name.values():  # every function reads its settings, this one included
            function.add_environment("APPROVAL_BASE_URL", approval_base_url or api.base_url)
        for name in ("intake", "open_waits"):
            functions[name].add_environment("STATE_MACHINE_ARN", workflow.arn)
        intake = Intake(self, "Intake", function=functions["intake"], key=key)
        # a feed's candidates: the same intake; their campaign starts at the clinical review (coach.review)
        candidates = FeedCandidates(self, "FeedCandidates", function=functions["intake"], key=key)
        review = functions["clinical_review"]
        review.add_environment("CLINICAL_REVIEWER_EMAILS", clinical_reviewer_emails or "")
        review.add_environment("CLINICAL_ESCALATION_EMAILS", clinical_escalation_emails or "")
        alerts = FailureAlerts(
            self, "FailureAlerts", function=functions["notify"], state_machine_arn=workflow.arn, key=key
        )
        grant_least_privilege(functions, Resources(storage, lake, claims, table, notifications, workflow))
        digests = Digests(  # one email per person (docs/architecture.md, "Digests")
            self,
            "Digests",
            functions=functions,
            table_arn=table.table_arn,
            notifications=notifications,
            key=key,
        )
        grant_prescribers(functions, Resources(storage, lake, claims, table, notifications, workflow))
        feeds = FeedSchedules(self, "Feeds", function=functions["feeds"], key=key)
        grant_feeds(
            functions,
            feed_state,
            key.key_arn,
            f"arn:{self.partition}:events:{self.region}:{self.account}:event-bus/default",
        )
        if (
            openfda_api_key_secret_arn
        ):  # the recalls feed's openFDA API key: the feeds function alone reads it
            functions["feeds"].add_environment("OPENFDA_API_KEY_SECRET", openfda_api_key_secret_arn)
            allow(functions["feeds"], ["secretsmanager:GetSecretValue"], [openfda_api_key_secret_arn])
        if lake_key_arn:  # an existing lake encrypted with its own key: the audience query decrypts it
            kms.Key.from_key_arn(self, "LakeKey", lake_key_arn).grant_decrypt(functions["audience"])
            kms.Key.from_key_arn(self, "PrescriberLakeKey", lake_key_arn).grant_decrypt(
                functions["prescribers"]
            )
        Monitoring(
            self,
            "Monitoring",
            state_machine=workflow.state_machine,
            dlqs={
                "Intake": intake.dlq,
                "FailureAlerts": alerts.dlq,
                "Feeds": feeds.dlq,
                "FeedCandidates": candidates.dlq,
                "Digests": digests.dlq,
            },
            functions=functions,
            key=key,
            alarm_email=alarm_email,
        )
        acknowledge_roles([*functions.by_name.values()], workflow.state_machine.role, feeds.role)
        CfnOutput(self, "ApprovalApiUrl", value=api.api.url)
        CfnOutput(self, "StateMachineArn", value=workflow.arn)
        CfnOutput(self, "DataBucket", value=storage.data.bucket_name)
        CfnOutput(self, "LettersBucket", value=storage.letters.bucket_name)
        CfnOutput(self, "AuditBucket", value=storage.audit.bucket_name)
        CfnOutput(self, "LakeUri", value=claims.lake_uri)
