"""The campaign state machine, from the very ASL file the local runtime runs (docs/architecture.md, decision 1)."""

from pathlib import Path

from aws_cdk import ArnFormat, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from coach.catalog import IN_WORKFLOW, asl_substitutions
from constructs import Construct

from stacks.constructs.functions import Functions
from stacks.constructs.nag import acknowledge

ROOT = Path(__file__).resolve().parents[2]
ASL = ROOT / "step_definitions" / "campaign.asl.json"
NAME = "automated-pharmacist-campaign"


def log_delivery_context(stack: Stack) -> str:
    """The encryption context (SourceArn) Step Functions' log delivery uses with the key: this account's logs."""
    return stack.format_arn(service="logs", resource="*", arn_format=ArnFormat.NO_RESOURCE_NAME)


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
        self.map_runs = map_runs = stack.format_arn(
            service="states",
            resource="mapRun",
            resource_name=f"{NAME}/*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        log_group = logs.LogGroup(
            self, "Logs", retention=log_retention, encryption_key=key, removal_policy=RemovalPolicy.RETAIN
        )
        role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("states.amazonaws.com"))
        substitutions = asl_substitutions(lambda name: functions[name].function_arn, data_bucket.bucket_name)
        # The key by reference: CDK would otherwise add its own key-policy statement for log delivery
        # (delivery.logs.amazonaws.com, kms:Decrypt*, no condition); the statement below replaces it, held to this
        # account's log deliveries. The role's grants (state machine and log-delivery encryption contexts) are CDK's.
        key_ref = kms.Key.from_key_arn(self, "KeyRef", key.key_arn)
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="StateMachineLogDelivery",
                principals=[iam.ServicePrincipal("delivery.logs.amazonaws.com")],
                actions=["kms:Decrypt"],
                resources=["*"],
                conditions={
                    "StringEquals": {
                        "aws:SourceAccount": stack.account,
                        "kms:EncryptionContext:SourceArn": log_delivery_context(stack),
                    },
                    "ArnLike": {"aws:SourceArn": log_delivery_context(stack)},
                },
            )
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=NAME,
            role=role,
            definition_body=sfn.DefinitionBody.from_file(str(ASL)),
            definition_substitutions=substitutions,
            state_machine_type=sfn.StateMachineType.STANDARD,
            tracing_enabled=True,
            encryption_configuration=sfn.CustomerManagedEncryptionConfiguration(key_ref),
            logs=sfn.LogOptions(
                destination=log_group, level=sfn.LogLevel.ERROR, include_execution_data=False
            ),
        )
        # The ASL invokes each function by its unqualified ARN: no version or alias.
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["lambda:InvokeFunction"],
                resources=[functions[name].function_arn for name in IN_WORKFLOW],
            )
        )
        # Distributed Map (AWS: "IAM policies for using Distributed Map states"): the ItemReader reads
        # clients.json and batches.json; the ResultWriter writes the map results (multipart included).
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"], resources=[data_bucket.arn_for_objects("campaigns/*")]
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "s3:AbortMultipartUpload",
                    "s3:GetObject",
                    "s3:ListMultipartUploadParts",
                    "s3:PutObject",
                ],
                resources=[data_bucket.arn_for_objects("map-results/*")],
            )
        )
        # SSE-KMS objects of the data bucket: read (ItemReader), written in parts (ResultWriter)
        role.add_to_policy(
            iam.PolicyStatement(actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[key.key_arn])
        )
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
                "AwsSolutions-SF1": "Logging is ERROR only and without execution data by design (docs/architecture.md, decision 2): "
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
        """Which state a failed execution was in, down through the failed child executions of its Distributed
        Maps (histories read without execution data: no key use, no PHI)."""
        principal = grantee.grant_principal
        principal.add_to_principal_policy(
            iam.PolicyStatement(actions=["states:GetExecutionHistory"], resources=self.executions)
        )
        principal.add_to_principal_policy(
            iam.PolicyStatement(actions=["states:ListMapRuns"], resources=self.executions)
        )
        principal.add_to_principal_policy(  # ListExecutions with a mapRunArn: the map run's child executions
            iam.PolicyStatement(actions=["states:ListExecutions"], resources=[self.map_runs])
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
