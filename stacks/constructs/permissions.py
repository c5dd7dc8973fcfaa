"""Least privilege, per function: this module is the stack's IAM table (docs/security.md lists it too).

Every grant names its actions one by one, from what the function's code calls (functions/*/handler.py and the
adapters in layers/domain/python/coach): no CDK grant helper, so no action group (`s3:GetObject*`, `s3:List*`,
`s3:DeleteObject*`, `kms:ReEncrypt*`, ...). Nothing in the code deletes an S3 object, so nobody may; nobody may
touch an object version, a bucket's policy, ACL, lock or retention. The workflow's own grants are in workflow.py."""

from dataclasses import dataclass

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from coach.adapters.dynamodb import OPEN_WAITS_INDEX

from stacks.constructs.claims_lake import ClaimsLake
from stacks.constructs.functions import Functions
from stacks.constructs.notifications import Notifications
from stacks.constructs.storage import AUDIT_PREFIX, Storage
from stacks.constructs.workflow import Workflow

CAMPAIGNS = "campaigns/*"
# a decision as it is recorded; the whole trail at campaign end (or at its review, when that ends it)
AUDIT_WRITERS = ("approval_api", "summary", "clinical_review")
ATHENA_PREFIX = "athena/*"  # the workgroup's output location and the UNLOAD folders under it (claims_lake.py)
# The email ledger's items (coach.adapters.mail.SesMailer): the only items a function that only sends mail may touch.
EMAIL_LEDGER_KEYS = "email#*"
GROUP_KEYS, LINK_KEYS = "group#*", "link#*"  # a question's index of links; the links themselves
DECISION_KEYS = "decision#*"  # a question's decision (the template versions it approved)
SPECIMENS = "specimens/*"  # the letters bucket's specimen letters (no member data)
AUDIT_KEYS = "audit#*"  # the decision trail's items in the approvals table
AUDIT_ITEM_CHANGES = ("dynamodb:DeleteItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem")

# KMS use of the stack's key, by what the principal does with S3 objects and table items encrypted under it.
READ_KEY = ("kms:Decrypt",)  # S3 GetObject of an SSE-KMS object
WRITE_KEY = ("kms:GenerateDataKey",)  # S3 PutObject (one part) of an SSE-KMS object
MULTIPART_KEY = ("kms:Decrypt", "kms:GenerateDataKey")  # multipart uploads need both
TABLE_READ_KEY = ("kms:Decrypt", "kms:DescribeKey")  # a customer-managed-key table, read
TABLE_WRITE_KEY = ("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey")  # and written

# DynamoDB, by the store methods a function calls (coach.adapters.dynamodb.DynamoApprovalStore, SesMailer).
# BatchGetItem: several questions' links or decisions read together (groups_links, decisions)
TABLE_READ = ("dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem")
TABLE_WRITE = ("dynamodb:PutItem", "dynamodb:UpdateItem")


@dataclass(frozen=True)
class Resources:
    storage: Storage
    lake: s3.IBucket
    claims: ClaimsLake
    table: dynamodb.ITable
    notifications: Notifications
    workflow: Workflow


def allow(
    grantee: iam.IGrantable, actions: list[str], resources: list[str], conditions: dict | None = None
) -> None:
    grantee.grant_principal.add_to_principal_policy(
        iam.PolicyStatement(actions=sorted(set(actions)), resources=resources, conditions=conditions)
    )


def objects(grantee: iam.IGrantable, bucket: s3.IBucket, pattern: str, *actions: str) -> None:
    """Object-level S3 actions on the keys under one prefix of one bucket."""
    allow(grantee, list(actions), [bucket.arn_for_objects(pattern)])


def listing(grantee: iam.IGrantable, bucket: s3.IBucket, pattern: str | None = None) -> None:
    """s3:ListBucket, held to keys under `pattern` when given. Without a pattern: a function that reads a key that
    may be missing (HeadObject, or GetObject expecting NoSuchKey) needs it unconditioned, or S3 answers 403 for 404."""
    conditions = {"StringLike": {"s3:prefix": [pattern]}} if pattern else None
    allow(grantee, ["s3:ListBucket"], [bucket.bucket_arn], conditions)


def grant_least_privilege(functions: Functions, r: Resources) -> None:
    data, letters, results, key = r.storage.data, r.storage.letters, r.storage.athena_results, r.storage.key
    table_arn = r.table.table_arn
    key_actions: dict[str, set[str]] = {name: set() for name in functions.by_name}  # one KMS statement each
    table_writers: set[str] = set()  # functions that may write some item of the approvals table

    def key_use(name: str, *groups: tuple[str, ...]) -> None:
        key_actions[name].update(action for group in groups for action in group)

    def table(name: str, actions: tuple[str, ...], *, index: bool = False, keys: str | None = None) -> None:
        """Item actions on the table, or (index=True) on its one index, open_waits, only."""
        resources = [f"{table_arn}/index/{OPEN_WAITS_INDEX}" if index else table_arn]
        if set(actions) & {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}:
            table_writers.add(name)
        conditions = {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [keys]}} if keys else None
        allow(functions[name], list(actions), resources, conditions)

    intake = functions["intake"]
    objects(intake, data, "quarantine/*", "s3:PutObject")  # rejected events, with their reasons
    key_use("intake", WRITE_KEY)
    r.workflow.grant_start_execution(intake)

    # The claims query: Athena reads the lake and writes the results with the caller's permissions (AWS: "Access
    # to Amazon S3" for Athena), and the function reads the UNLOAD output back (coach.adapters.athena).
    audience = functions["audience"]
    objects(
        audience, data, CAMPAIGNS, "s3:PutObject"
    )  # batch files, batches.json, contacts.json, clients.json
    objects(audience, letters, CAMPAIGNS, "s3:PutObject")  # holdout.csv beside the manifest (coach.outcomes)
    allow(audience, ["s3:GetBucketLocation"], [results.bucket_arn, r.lake.bucket_arn])
    listing(audience, results, ATHENA_PREFIX)
    objects(
        audience,
        results,
        ATHENA_PREFIX,
        "s3:GetObject",
        "s3:PutObject",
        "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts",
    )
    lake_objects = r.claims.objects_pattern  # "<lake_prefix>/*", or "*" for a lake at the bucket's root
    listing(audience, r.lake, lake_objects if lake_objects != "*" else None)
    objects(audience, r.lake, lake_objects, "s3:GetObject")
    key_use(
        "audience", MULTIPART_KEY
    )  # the workgroup encrypts results with the stack's key; so is our own lake
    allow(
        audience,
        ["athena:StartQueryExecution", "athena:GetQueryExecution", "athena:StopQueryExecution"],
        [r.claims.workgroup_arn],
    )
    allow(
        audience,
        ["glue:GetDatabase", "glue:GetTable", "glue:GetPartitions"],
        [r.claims.catalog_arn, r.claims.database_arn, r.claims.tables_arn],
    )

    for name in ("approval_request", "notify", "letters"):  # they send mail; the table is the email ledger
        functions[name].add_to_role_policy(r.notifications.send_statement)
        objects(functions[name], data, CAMPAIGNS, "s3:GetObject")  # contacts.json, batch files
        key_use(name, READ_KEY, TABLE_WRITE_KEY)
    # client_outcome emails the operator when a client's contacts cannot be used (coach.notices, invalid_contacts)
    functions["client_outcome"].add_to_role_policy(r.notifications.send_statement)
    for name in (
        "notify",
        "letters",
        "client_outcome",
    ):  # the ledger only: claim a send (conditional put), release a failed one
        table(name, ("dynamodb:PutItem", "dynamodb:DeleteItem"), keys=EMAIL_LEDGER_KEYS)

    # links (put, supersede), the group's links, a decision to reuse or reopen (delete), and the ledger
    table("approval_request", TABLE_READ + TABLE_WRITE + ("dynamodb:DeleteItem",))
    # an ask already answered (a redrive re-enters the wait): the stored decision answers the new task at once
    r.workflow.grant_task_response(functions["approval_request"])
    r.workflow.grant_read_history(
        functions["notify"]
    )  # the stage a failed campaign stopped in, for the alert
    # which client branches had no outcome yet (a missing outcome must read as 404, not 403), for the alert
    listing(functions["notify"], data, CAMPAIGNS)

    table("approval_api", TABLE_READ + TABLE_WRITE)  # links, decisions, audit records: never a delete
    key_use("approval_api", TABLE_WRITE_KEY)
    r.workflow.grant_task_response(functions["approval_api"])

    # The specimen letters the approval pages show (coach.letters.specimen): approval_request stores each once (a
    # conditional put: the first stored stays), approval_api serves them; letters checks what was approved
    listing(functions["approval_request"], letters, SPECIMENS)
    objects(functions["approval_request"], letters, SPECIMENS, "s3:GetObject", "s3:PutObject")
    key_use("approval_request", WRITE_KEY)
    objects(functions["approval_api"], letters, SPECIMENS, "s3:GetObject")
    key_use("approval_api", READ_KEY)
    table("letters", ("dynamodb:GetItem", "dynamodb:BatchGetItem"), keys=DECISION_KEYS)
    key_use("letters", TABLE_READ_KEY)

    letters_fn = functions["letters"]
    listing(letters_fn, letters)  # exists(): a batch's manifest, absent on the first attempt (404, not 403)
    objects(letters_fn, letters, CAMPAIGNS, "s3:GetObject", "s3:PutObject")
    key_use("letters", WRITE_KEY)

    # merges the client's manifest (a multipart upload: put_stream, aborted on failure), records the outcome
    outcome = functions["client_outcome"]
    listing(outcome, letters, CAMPAIGNS)
    objects(outcome, letters, CAMPAIGNS, "s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload")
    objects(outcome, data, CAMPAIGNS, "s3:PutObject")
    # closes the links still pending when the branch ends (coach.approvals.waits.close_waits): a group's links,
    # the links read (together) and set to closed; nothing else in the table
    table("client_outcome", ("dynamodb:Query",), keys=GROUP_KEYS)
    table(
        "client_outcome", ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:UpdateItem"), keys=LINK_KEYS
    )
    key_use("client_outcome", MULTIPART_KEY, TABLE_WRITE_KEY)

    summary = functions[
        "summary"
    ]  # reads clients.json (NoSuchKey is a case it handles) and outcomes, writes report
    listing(summary, data)
    objects(summary, data, CAMPAIGNS, "s3:GetObject", "s3:PutObject")
    table("summary", TABLE_READ)  # the report's approval timeline; the decision trail
    key_use("summary", READ_KEY, WRITE_KEY, TABLE_READ_KEY)

    # the clinical review (coach.review): asks like approval_request (links, the ledger, a delivered answer reused on
    # a redrive); its closing step, like summary, writes the report of a campaign its review ended
    review = functions["clinical_review"]
    review.add_to_role_policy(r.notifications.send_statement)
    table("clinical_review", TABLE_READ + TABLE_WRITE + ("dynamodb:DeleteItem",))
    r.workflow.grant_task_response(review)
    listing(review, data)
    objects(review, data, CAMPAIGNS, "s3:GetObject", "s3:PutObject")
    key_use("clinical_review", READ_KEY, WRITE_KEY, TABLE_WRITE_KEY)
    # after the follow-up (coach.outcomes): the outcome query on Athena as the audience runs it; reads the clients,
    # branch outcomes and contacts, the letters manifests and holdout files (a missing holdout file is a 404, so a
    # listing); writes the outcomes; emails account teams and clients (the ledger: claim a send, release a failed one)
    measure = functions["measure_outcomes"]
    listing(measure, letters, CAMPAIGNS)
    objects(measure, letters, CAMPAIGNS, "s3:GetObject")
    objects(measure, data, CAMPAIGNS, "s3:GetObject", "s3:PutObject")
    allow(measure, ["s3:GetBucketLocation"], [results.bucket_arn, r.lake.bucket_arn])
    listing(measure, results, ATHENA_PREFIX)
    objects(measure, results, ATHENA_PREFIX, "s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload")
    listing(measure, r.lake, lake_objects if lake_objects != "*" else None)
    objects(measure, r.lake, lake_objects, "s3:GetObject")
    allow(
        measure,
        [
            "athena:StartQueryExecution",
            "athena:GetQueryExecution",
            "athena:GetQueryResults",
            "athena:StopQueryExecution",
        ],
        [r.claims.workgroup_arn],
    )
    allow(
        measure,
        ["glue:GetDatabase", "glue:GetTable", "glue:GetPartitions"],
        [r.claims.catalog_arn, r.claims.database_arn, r.claims.tables_arn],
    )
    measure.add_to_role_policy(r.notifications.send_statement)
    table("measure_outcomes", ("dynamodb:PutItem", "dynamodb:DeleteItem"), keys=EMAIL_LEDGER_KEYS)
    key_use("measure_outcomes", MULTIPART_KEY, TABLE_WRITE_KEY)

    # the open-waits index, each question's decision (no write); its campaign's status
    table("open_waits", ("dynamodb:GetItem", "dynamodb:BatchGetItem"))
    table("open_waits", ("dynamodb:Query",), index=True)
    key_use("open_waits", TABLE_READ_KEY)
    r.workflow.grant_describe(functions["open_waits"])

    # append only: no read, no delete, no retention change (Object Lock does the rest)
    for name in AUDIT_WRITERS:
        objects(functions[name], r.storage.audit, AUDIT_PREFIX, "s3:PutObject")
        key_use(name, WRITE_KEY)  # SSE-KMS: the object's data key
        functions[name].add_environment("AUDIT_BUCKET", r.storage.audit.bucket_name)

    for name, actions in key_actions.items():
        if actions:
            allow(functions[name], list(actions), [key.key_arn])

    # The audit copy in the table is append-only, as the Object Lock copy is: no function may delete or update an
    # audit item, and only approval_api may put one (always conditional: attribute_not_exists, never an overwrite).
    # Functions that write no item of the table need no denial: nothing grants them a write.
    for name in sorted(table_writers):
        denied = AUDIT_ITEM_CHANGES + (() if name == "approval_api" else ("dynamodb:PutItem",))
        functions[name].grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                effect=iam.Effect.DENY,
                actions=sorted(denied),
                resources=[table_arn],
                conditions={"ForAnyValue:StringLike": {"dynamodb:LeadingKeys": [AUDIT_KEYS]}},
            )
        )


def grant_feeds(functions: Functions, state: dynamodb.ITable, key_arn: str, bus_arn: str) -> None:
    """The feeds function (coach.adapters.feed_state, coach.adapters.eventbus): its own state table (no delete but
    through BatchWriteItem, which the NDC-directory index needs to forget a delisted product), its candidates on
    the default bus. It reads FDA over HTTPS: no AWS grant for that."""
    feeds = functions["feeds"]
    allow(
        feeds,
        [
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:Query",
            "dynamodb:BatchGetItem",
            "dynamodb:BatchWriteItem",
        ],
        [state.table_arn],
    )
    allow(feeds, list(TABLE_WRITE_KEY), [key_arn])
    allow(feeds, ["events:PutEvents"], [bus_arn])
