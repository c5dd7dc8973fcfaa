"""The Lambda functions: one folder each under the functions root, the domain layer and the dependency layer,
encrypted log groups, X-Ray, reserved concurrency. Grants are added by the stack, per function.

Each function has a role of its own (no AWS managed policy: AWSLambdaBasicExecutionRole would let it write to every
log group in the account) that may write only to its own log group; X-Ray trace upload (resource `*`, the service
has no resource-level scoping) is added by Lambda's tracing setting."""

from pathlib import Path

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from coach.catalog import FUNCTIONS
from constructs import Construct

from stacks.constructs.nag import acknowledge

ROOT = Path(__file__).resolve().parents[2]
DOMAIN_LAYER = ROOT / "layers" / "domain"  # contains python/coach
POWERTOOLS = {
    "POWERTOOLS_SERVICE_NAME": "automated-pharmacist",
    "POWERTOOLS_METRICS_NAMESPACE": "AutomatedPharmacist",
    "POWERTOOLS_LOG_LEVEL": "INFO",
}


class Functions(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        key: kms.IKey,
        environment: dict[str, str],
        functions_root: Path,
        deps_layer_dir: Path,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, id)
        domain = lambda_.LayerVersion(
            self,
            "DomainLayer",
            code=lambda_.Code.from_asset(str(DOMAIN_LAYER), exclude=["**/__pycache__", "**/*.pyc"]),
            compatible_runtimes=[lambda_.Runtime.PYTHON_3_11],
            description="coach domain package",
        )
        deps = lambda_.LayerVersion(
            self,
            "DependencyLayer",
            code=lambda_.Code.from_asset(str(deps_layer_dir)),
            compatible_runtimes=[lambda_.Runtime.PYTHON_3_11],
            description="pinned runtime dependencies (the core dependencies, from uv.lock)",
        )
        self.by_name: dict[str, lambda_.Function] = {}
        for spec in FUNCTIONS:
            name = spec.name
            log_group = logs.LogGroup(
                self,
                f"{name}-logs",
                retention=log_retention,
                encryption_key=key,
                removal_policy=RemovalPolicy.RETAIN,
            )
            role = iam.Role(
                self,
                f"{name}ServiceRole",
                assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                description=f"The {name} function: its own log group, and the grants in permissions.py",
            )
            # its own log group only: the ARN is `...:log-group:<name>:*`, which covers the group's streams
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_group.log_group_arn]
                )
            )
            function = lambda_.Function(
                self,
                name,
                runtime=lambda_.Runtime.PYTHON_3_11,
                handler="handler.handler",
                code=lambda_.Code.from_asset(str(functions_root / name), exclude=["**/__pycache__"]),
                layers=[domain, deps],
                memory_size=spec.memory_mb,
                timeout=Duration.seconds(spec.timeout_seconds),
                reserved_concurrent_executions=spec.reserved_concurrency,
                tracing=lambda_.Tracing.ACTIVE,
                log_group=log_group,
                role=role,
                architecture=lambda_.Architecture.X86_64,  # the dependency layer holds manylinux x86_64 wheels
                environment_encryption=key,
                environment={**environment, **POWERTOOLS},
            )
            acknowledge(
                function,
                {
                    "AwsSolutions-L1": "Pinned to Python 3.11, the version the project and its lock file are "
                    "built and tested on.",
                    "HIPAA.Security-LambdaDLQ": "Invoked synchronously by Step Functions (retried in the ASL; a "
                    "failed execution alerts the operator), by API Gateway, or by EventBridge rules whose targets "
                    "have their own DLQs (intake, failure alerts); the open-waits gauge runs again in 5 minutes; the feeds "
                    "function runs on EventBridge Scheduler schedules (retried, then their own DLQ) and a failed "
                    "poll reads from its watermark at the next one.",
                    "HIPAA.Security-LambdaInsideVPC": "Talks only to regional AWS APIs over TLS with IAM auth; "
                    "no VPC resources.",
                },
            )
            self.by_name[name] = function

    def __getitem__(self, name: str) -> lambda_.Function:
        return self.by_name[name]
