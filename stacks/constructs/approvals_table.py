"""The approvals table: links (hashed ids), decisions, the append-only audit trail and the email ledger; its sparse
index of open questions (coach/adapters/dynamodb.py)."""

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from coach.adapters.dynamodb import OPEN_WAIT_ATTR, OPEN_WAITS_INDEX
from coach.approvals.records import OPEN_WAIT_FIELDS
from constructs import Construct

from stacks.constructs.nag import acknowledge
from stacks.constructs.resources import key_value_table


class ApprovalsTable(Construct):
    def __init__(self, scope: Construct, id: str, *, key: kms.IKey) -> None:
        super().__init__(scope, id)
        self.table = key_value_table(self, key, time_to_live_attribute="ttl")
        # sparse: only pending links carry the key, so the gauge and `coach status` read open questions only
        self.table.add_global_secondary_index(
            index_name=OPEN_WAITS_INDEX,
            partition_key=dynamodb.Attribute(name=OPEN_WAIT_ATTR, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="created_at", type=dynamodb.AttributeType.NUMBER),
            projection_type=dynamodb.ProjectionType.INCLUDE,
            non_key_attributes=list(OPEN_WAIT_FIELDS),
        )
        acknowledge(
            self.table,
            {
                "HIPAA.Security-DynamoDBInBackupPlan": "Point-in-time recovery (35 days) is on; "
                "an AWS Backup plan is an account-level choice."
            },
        )
