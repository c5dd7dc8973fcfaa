"""Least privilege, per function: this module is the stack's IAM table (docs/security.md lists it too)."""

from dataclasses import dataclass

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3

from stacks.constructs.claims_lake import ClaimsLake
from stacks.constructs.functions import Functions
from stacks.constructs.notifications import Notifications
from stacks.constructs.storage import AUDIT_PREFIX, Storage
from stacks.constructs.workflow import Workflow

CAMPAIGNS = "campaigns/*"
AUDIT_WRITERS = ("approval_api", "summary")  # a decision as it is recorded; the whole trail at campaign end


@dataclass(frozen=True)
class Resources:
    storage: Storage
    lake: s3.IBucket
    claims: ClaimsLake
    table: dynamodb.ITable
    notifications: Notifications
    workflow: Workflow


def grant_least_privilege(functions: Functions, r: Resources) -> None:
    data, letters = r.storage.data, r.storage.letters

    intake = functions["intake"]
    data.grant_put(intake, "quarantine/*")  # rejected events, with their reasons
    r.workflow.grant_start_execution(intake)

    audience = functions["audience"]
    data.grant_read_write(audience, CAMPAIGNS)
    r.lake.grant_read(audience, r.claims.objects_pattern)
    r.storage.athena_results.grant_read_write(audience, "athena/*")  # query results and UNLOAD output
    r.storage.key.grant_encrypt_decrypt(audience)  # the workgroup encrypts results with the stack's key
    audience.add_to_role_policy(
        iam.PolicyStatement(
            actions=["athena:StartQueryExecution", "athena:GetQueryExecution", "athena:StopQueryExecution"],
            resources=[r.claims.workgroup_arn],
        )
    )
    audience.add_to_role_policy(
        iam.PolicyStatement(
            actions=["glue:GetDatabase", "glue:GetTable", "glue:GetPartitions"],
            resources=[r.claims.catalog_arn, r.claims.database_arn, r.claims.tables_arn],
        )
    )

    for name in ("approval_request", "notify", "letters"):  # they send mail; the table is the email ledger
        functions[name].add_to_role_policy(r.notifications.send_statement)
        r.table.grant_read_write_data(functions[name])
        data.grant_read(functions[name], CAMPAIGNS)  # contacts.json, batch files

    # an ask already answered (a redrive re-enters the wait): the stored decision answers the new task at once
    r.workflow.grant_task_response(functions["approval_request"])
    r.workflow.grant_read_history(
        functions["notify"]
    )  # the stage a failed campaign stopped in, for the alert

    approval_api = functions["approval_api"]
    r.table.grant_read_write_data(approval_api)  # links, decisions, audit records
    r.workflow.grant_task_response(approval_api)

    letters.grant_read_write(functions["letters"], CAMPAIGNS)
    letters.grant_read_write(functions["client_outcome"], CAMPAIGNS)  # merges the client's manifest
    data.grant_read_write(functions["client_outcome"], CAMPAIGNS)
    data.grant_read_write(functions["summary"], CAMPAIGNS)
    r.table.grant_read_data(functions["summary"])  # the report's approval timeline; the decision trail

    gauge = functions["open_waits"]  # the open-waits index, each question's decision, its campaign's status
    r.table.grant_read_data(gauge)
    r.workflow.grant_describe(gauge)

    # append only: no read, no delete, no retention change (Object Lock does the rest)
    for name in AUDIT_WRITERS:
        functions[name].add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject"], resources=[r.storage.audit.arn_for_objects(AUDIT_PREFIX)]
            )
        )
        r.storage.key.grant(functions[name], "kms:GenerateDataKey")  # SSE-KMS: the object's data key
        functions[name].add_environment("AUDIT_BUCKET", r.storage.audit.bucket_name)
