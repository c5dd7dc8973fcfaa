"""The prescriber functions' grants (issue 17), action by action like permissions.py: `prescribers` runs the
prescriber query on Athena (as the audience function does) and writes the notice batches; `prescriber_notices`
reads a batch and writes its PDF and manifest under prescriber-notices/ in the letters bucket."""

from __future__ import annotations

from stacks.constructs.functions import Functions
from stacks.constructs.permissions import (
    ATHENA_PREFIX,
    CAMPAIGNS,
    MULTIPART_KEY,
    READ_KEY,
    WRITE_KEY,
    Resources,
    allow,
    listing,
    objects,
)

NOTICES = "prescriber-notices/*"


def grant_prescribers(functions: Functions, r: Resources) -> None:
    plan = functions["prescribers"]
    data, letters, results, key = r.storage.data, r.storage.letters, r.storage.athena_results, r.storage.key
    listing(plan, data, CAMPAIGNS)  # clients.json absent (no affected client) must read as 404
    objects(plan, data, CAMPAIGNS, "s3:GetObject", "s3:PutObject")  # outcomes in; batches and summary out
    allow(plan, ["s3:GetBucketLocation"], [results.bucket_arn, r.lake.bucket_arn])
    listing(plan, results, ATHENA_PREFIX)
    objects(
        plan,
        results,
        ATHENA_PREFIX,
        "s3:GetObject",
        "s3:PutObject",
        "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts",
    )
    lake_objects = r.claims.objects_pattern
    listing(plan, r.lake, lake_objects if lake_objects != "*" else None)
    objects(plan, r.lake, lake_objects, "s3:GetObject")
    allow(
        plan,
        ["athena:StartQueryExecution", "athena:GetQueryExecution", "athena:StopQueryExecution"],
        [r.claims.workgroup_arn],
    )
    allow(
        plan,
        ["glue:GetDatabase", "glue:GetTable", "glue:GetPartitions"],
        [r.claims.catalog_arn, r.claims.database_arn, r.claims.tables_arn],
    )
    allow(plan, list(MULTIPART_KEY), [key.key_arn])

    render = functions["prescriber_notices"]
    objects(render, data, CAMPAIGNS, "s3:GetObject")  # the batch of notices
    listing(render, letters, NOTICES)  # exists(): a batch's manifest, absent on the first attempt
    objects(render, letters, NOTICES, "s3:GetObject", "s3:PutObject")
    allow(render, sorted(set(READ_KEY + WRITE_KEY)), [key.key_arn])
