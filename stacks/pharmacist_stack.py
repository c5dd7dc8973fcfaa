"""The automated pharmacist: one thin stack composing one construct per concern."""

from pathlib import Path

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.constructs.approvals import ApprovalsApi, ApprovalsTable
from stacks.constructs.claims_lake import ClaimsLake
from stacks.constructs.functions import Functions
from stacks.constructs.intake import Intake
from stacks.constructs.monitoring import Monitoring
from stacks.constructs.nag import acknowledge, acknowledge_policy_wildcards
from stacks.constructs.notifications import Notifications
from stacks.constructs.storage import Storage
from stacks.constructs.workflow import Workflow

ROOT = Path(__file__).resolve().parent.parent


class AutomatedPharmacistStack(Stack):
    def __init__(self, scope: Construct, id: str, *, sender_email: str, deps_layer_dir: Path,
                 functions_root: Path = ROOT / "functions", lake_bucket: str | None = None, lake_prefix: str = "",
                 alarm_email: str | None = None, operator_email: str | None = None, retention_days: int = 2190,
                 approval_base_url: str | None = None, **kwargs: object) -> None:
        super().__init__(scope, id, **kwargs)  # type: ignore[arg-type]
        log_retention = logs.RetentionDays.ONE_YEAR
        storage = Storage(self, "Storage", retention_days=retention_days)
        lake = (s3.Bucket.from_bucket_name(self, "LakeBucket", lake_bucket) if lake_bucket
                else storage._bucket("Lake", "lake/", retention_days))
        claims = ClaimsLake(self, "ClaimsLake", lake_bucket=lake, lake_prefix=lake_prefix,
                            results_bucket=storage.athena_results, key=storage.key)
        table = ApprovalsTable(self, "Approvals", key=storage.key).table
        notifications = Notifications(self, "Notifications", sender_email=sender_email)
        environment = {
            "DATA_BUCKET": storage.data.bucket_name, "LETTERS_BUCKET": storage.letters.bucket_name,
            "APPROVALS_TABLE": table.table_name, "SENDER_EMAIL": sender_email, "CLAIMS_ENGINE": "athena",
            "ATHENA_WORKGROUP": "automated-pharmacist", "ATHENA_DATABASE": claims.database,
            "ATHENA_OUTPUT": claims.results_location + "unload/", "BATCH_SIZE": "2000",
            "LETTERS_MAX_CONCURRENCY": "50",
            "SES_CONFIGURATION_SET": notifications.configuration_set.configuration_set_name,
            "OPERATOR_EMAIL": operator_email or "", "APPROVAL_BASE_URL": approval_base_url or "",
        }
        functions = Functions(self, "Functions", key=storage.key, environment=environment,
                              functions_root=functions_root, deps_layer_dir=deps_layer_dir, log_retention=log_retention)
        api = ApprovalsApi(self, "ApprovalsApi", function=functions["approval_api"], key=storage.key,
                           log_retention=log_retention)
        if not approval_base_url:
            for name in ("approval_request", "notify"):
                functions[name].add_environment("APPROVAL_BASE_URL", api.base_url)
        workflow = Workflow(self, "Workflow", functions=functions, data_bucket=storage.data, key=storage.key,
                            log_retention=log_retention)
        functions["intake"].add_environment("STATE_MACHINE_ARN", workflow.arn)
        intake = Intake(self, "Intake", function=functions["intake"], key=storage.key)
        self._grant(functions, storage, lake, claims, table, notifications, workflow)
        Monitoring(self, "Monitoring", state_machine=workflow.state_machine, dlq=intake.dlq, functions=functions,
                   key=storage.key, alarm_email=alarm_email)
        self._acknowledge_roles(functions, workflow)
        CfnOutput(self, "ApprovalApiUrl", value=api.base_url)
        CfnOutput(self, "StateMachineArn", value=workflow.arn)
        CfnOutput(self, "LettersBucket", value=storage.letters.bucket_name)

    @staticmethod
    def _acknowledge_roles(functions: Functions, workflow: Workflow) -> None:
        basic = "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
        roles = [f.role for f in functions.by_name.values()] + [workflow.state_machine.role]
        for role in roles:
            policy = role.node.try_find_child("DefaultPolicy") if role else None
            if policy is None:
                continue
            acknowledge_policy_wildcards(policy)
            acknowledge(policy, {"HIPAA.Security-IAMNoInlinePolicy":
                                 "One least-privilege policy per role, generated from the grants in this stack; "
                                 "never shared, so a managed policy would add nothing."})
        for function in functions.by_name.values():
            acknowledge(function.role, {f"AwsSolutions-IAM4[{basic}]":  # type: ignore[arg-type]
                                        "Lets the function write its own CloudWatch logs, nothing else."})

    @staticmethod
    def _grant(functions: Functions, storage: Storage, lake: s3.IBucket, claims: ClaimsLake, table: object,
               notifications: Notifications, workflow: Workflow) -> None:
        """Least privilege, per function."""
        storage.data.grant_put(functions["intake"], "quarantine/*")
        functions["intake"].add_to_role_policy(iam.PolicyStatement(actions=["states:StartExecution"],
                                                                   resources=[workflow.arn]))
        audience = functions["audience"]
        storage.data.grant_read_write(audience, "campaigns/*")
        lake.grant_read(audience)
        storage.athena_results.grant_read_write(audience, "athena/*")
        storage.key.grant_encrypt_decrypt(audience)
        audience.add_to_role_policy(iam.PolicyStatement(
            actions=["athena:StartQueryExecution", "athena:GetQueryExecution", "athena:StopQueryExecution"],
            resources=[claims.workgroup_arn]))
        audience.add_to_role_policy(iam.PolicyStatement(
            actions=["glue:GetDatabase", "glue:GetTable", "glue:GetPartitions"],
            resources=[claims.catalog_arn, claims.database_arn, claims.tables_arn]))
        for name in ("approval_request", "approval_api"):
            table.grant_read_write_data(functions[name])  # type: ignore[attr-defined]
        for name in ("approval_request", "notify", "letters"):
            functions[name].add_to_role_policy(notifications.send_statement)
            table.grant_read_write_data(functions[name])  # type: ignore[attr-defined]  # the email ledger
            storage.data.grant_read(functions[name], "campaigns/*")
        functions["approval_api"].add_to_role_policy(iam.PolicyStatement(
            actions=["states:SendTaskSuccess", "states:SendTaskFailure"], resources=[workflow.arn]))
        storage.letters.grant_read_write(functions["letters"], "campaigns/*")
        storage.letters.grant_read_write(functions["client_outcome"], "campaigns/*")
        storage.data.grant_read_write(functions["client_outcome"], "campaigns/*")
        storage.data.grant_read_write(functions["summary"], "campaigns/*")
