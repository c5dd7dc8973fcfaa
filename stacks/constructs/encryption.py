"""The customer-managed key: rotated yearly; encrypts member data, letters, the table, logs and workflow state."""

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

LOGS_KEY_ACTIONS = [
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
]


class Encryption(Construct):
    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        self.key = kms.Key(
            self,
            "Key",
            enable_key_rotation=True,
            alias="alias/automated-pharmacist",
            description="Automated pharmacist: member data, letters, approvals, logs, workflow state",
            removal_policy=RemovalPolicy.RETAIN,
        )
        # CloudWatch Logs encrypts log groups with the key, but only for log groups of this account and region.
        # AWS documents this statement with action groups (kms:Encrypt*, ...); these are the actions they expand to
        # for a symmetric key, without the asymmetric data-key-pair ones.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchLogsOfThisAccount",
                principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
                actions=LOGS_KEY_ACTIONS,
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": (
                            f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:*"
                        )
                    }
                },
            )
        )
