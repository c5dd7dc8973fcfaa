"""The campaign state machine, from the very ASL file the local runtime runs (DESIGN.md §1)."""

from pathlib import Path

from aws_cdk import ArnFormat, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from stacks.constructs.functions import Functions
from stacks.constructs.nag import acknowledge

ROOT = Path(__file__).resolve().parents[2]
ASL = ROOT / "step_definitions" / "campaign.asl.json"
NAME = "automated-pharmacist-campaign"
IN_WORKFLOW = ("audience", "approval_request", "notify", "letters", "client_outcome", "summary")


def substitution_name(function: str) -> str:
    """approval_request → ApprovalRequestFunctionArn (the ${...} names in the ASL file)."""
    return "".join(part.capitalize() for part in function.split("_")) + "FunctionArn"


class Workflow(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        functions: Functions,
        data_bucket: s3.IBucket,
        key: kms.IKey,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        self.key = key
        # The ARN from the fixed name, not a Ref: the functions' environment and policies name the state machine,
        # and the state machine names the functions; a Ref both ways would be a cycle.
        self.arn = stack.format_arn(
            service="states",
            resource="stateMachine",
            resource_name=NAME,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        # Executions (NAME:id) and Distributed Map child executions (NAME/label:id) of this state machine.
        self.executions = executions = [
            stack.format_arn(
                service="states",
                resource="execution",
                resource_name=f"{NAME}{sep}*",
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            )
            for sep in (":", "/")
        ]
        map_runs = stack.format_arn(
            service="states",
            resource="mapRun",
            resource_name=f"{NAME}/*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        log_group = logs.LogGroup(
            self, "Logs", retention=log_retention, encryption_key=key, removal_policy=RemovalPolicy.RETAIN
        )
        role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("states.amazonaws.com"))
        substitutions = {substitution_name(name): functions[name].function_arn for name in IN_WORKFLOW}
        substitutions["DataBucket"] = data_bucket.bucket_name
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=NAME,
            role=role,
            definition_body=sfn.DefinitionBody.from_file(str(ASL)),
            definition_substitutions=substitutions,
            state_machine_type=sfn.StateMachineType.STANDARD,
            tracing_enabled=True,
            encryption_configuration=sfn.CustomerManagedEncryptionConfiguration(key),
            logs=sfn.LogOptions(
                destination=log_group, level=sfn.LogLevel.ERROR, include_execution_data=False
            ),
        )
        for name in IN_WORKFLOW:
            functions[name].grant_invoke(role)
        data_bucket.grant_read_write(role, "campaigns/*")  # ItemReader: clients.json, batches.json
        data_bucket.grant_read_write(role, "map-results/*")  # ResultWriter
        # Distributed Map runs its child workflows as executions of this same state machine.
        role.add_to_policy(iam.PolicyStatement(actions=["states:StartExecution"], resources=[self.arn]))
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["states:DescribeExecution", "states:StopExecution"], resources=executions
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["states:DescribeMapRun", "states:UpdateMapRun", "states:ListMapRuns"],
                resources=[map_runs, self.arn],
            )
        )
        acknowledge(
            self.state_machine,
            {
                "AwsSolutions-SF1": "Logging is ERROR only and without execution data by design (DESIGN.md §2): "
                "workflow history is visible to console users and must carry no PHI.",
            },
        )

    def _key_use(self, actions: list[str]) -> iam.PolicyStatement:
        """Execution input and task output are encrypted under the key, in this state machine's context only."""
        return iam.PolicyStatement(
            actions=actions,
            resources=[self.key.key_arn],
            conditions={"StringEquals": {"kms:EncryptionContext:aws:states:stateMachineArn": self.arn}},
        )

    def grant_start_execution(self, grantee: iam.IGrantable) -> None:
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(actions=["states:StartExecution"], resources=[self.arn])
        )
        grantee.grant_principal.add_to_principal_policy(self._key_use(["kms:GenerateDataKey", "kms:Decrypt"]))

    def grant_read_history(self, grantee: iam.IGrantable) -> None:
        """Which state a failed execution was in (history read without execution data: no key use, no PHI)."""
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(actions=["states:GetExecutionHistory"], resources=[self.executions[0]])
        )

    def grant_describe(self, grantee: iam.IGrantable) -> None:
        """Whether a campaign still runs (DescribeExecution with METADATA_ONLY: no key use, no input or output)."""
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(actions=["states:DescribeExecution"], resources=[self.executions[0]])
        )

    def grant_task_response(self, grantee: iam.IGrantable) -> None:
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["states:SendTaskSuccess", "states:SendTaskFailure"], resources=[self.arn]
            )
        )
        grantee.grant_principal.add_to_principal_policy(self._key_use(["kms:GenerateDataKey", "kms:Decrypt"]))
