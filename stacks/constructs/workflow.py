"""The campaign state machine, from the very ASL file the local runtime runs (DESIGN.md §1)."""

from pathlib import Path

from aws_cdk import RemovalPolicy, Stack
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
    return "".join(part.capitalize() for part in function.split("_")) + "FunctionArn"


class Workflow(Construct):
    def __init__(self, scope: Construct, id: str, *, functions: Functions, data_bucket: s3.IBucket, key: kms.IKey,
                 log_retention: logs.RetentionDays) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        self.arn = stack.format_arn(service="states", resource="stateMachine", resource_name=NAME,
                                    arn_format=_colon())
        executions = stack.format_arn(service="states", resource="execution", resource_name=f"{NAME}*",
                                      arn_format=_colon())
        map_runs = stack.format_arn(service="states", resource="mapRun", resource_name=f"{NAME}/*",
                                    arn_format=_colon())
        log_group = logs.LogGroup(self, "Logs", retention=log_retention, encryption_key=key,
                                  removal_policy=RemovalPolicy.RETAIN)
        role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("states.amazonaws.com"))
        subs = {substitution_name(name): functions[name].function_arn for name in IN_WORKFLOW}
        subs["DataBucket"] = data_bucket.bucket_name
        self.state_machine = sfn.StateMachine(
            self, "StateMachine", state_machine_name=NAME, role=role,
            definition_body=sfn.DefinitionBody.from_file(str(ASL)), definition_substitutions=subs,
            state_machine_type=sfn.StateMachineType.STANDARD, tracing_enabled=True,
            encryption_configuration=sfn.CustomerManagedEncryptionConfiguration(key),
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ERROR, include_execution_data=False))
        for name in IN_WORKFLOW:
            functions[name].grant_invoke(role)
        data_bucket.grant_read_write(role, "campaigns/*")
        data_bucket.grant_read_write(role, "map-results/*")
        role.add_to_policy(iam.PolicyStatement(  # Distributed Map runs child executions of this state machine
            actions=["states:StartExecution"], resources=[self.arn]))
        role.add_to_policy(iam.PolicyStatement(
            actions=["states:DescribeExecution", "states:StopExecution"], resources=[executions]))
        role.add_to_policy(iam.PolicyStatement(
            actions=["states:DescribeMapRun", "states:UpdateMapRun", "states:ListMapRuns"], resources=[map_runs, self.arn]))
        acknowledge(self.state_machine, {
            "AwsSolutions-SF1": "Logging is ERROR only and without execution data by design (DESIGN.md §2): "
                                "workflow history is visible to console users and must carry no PHI.",
        })
        acknowledge(role, {"AwsSolutions-IAM5": "Wildcards: Lambda version qualifiers, execution and map-run names of "
                                                "this state machine, object keys under campaigns/ and map-results/."})


def _colon():  # type: ignore[no-untyped-def]
    from aws_cdk import ArnFormat

    return ArnFormat.COLON_RESOURCE_NAME
