"""The resources the CDK stack deploys, created in moto: buckets, the approvals table, SES identities, the functions
(dispatched in-process) and the state machine from the one ASL with CDK's substitutions."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

from coach.adapters.dynamodb import table_definition
from coach.catalog import FUNCTION_NAMES, asl_substitutions

from coach_local.dispatch import FUNCTION_PREFIX, function_arn
from coach_local.runtime.environment import (
    ACCOUNT,
    APPROVALS_TABLE,
    AUDIT_BUCKET,
    DATA_BUCKET,
    LETTERS_BUCKET,
    REGION,
    SENDER,
)

ROOT = Path(__file__).resolve().parents[2]
ASL_PATH = ROOT / "step_definitions" / "campaign.asl.json"
STATE_MACHINE = "coach-campaign"
MARKET_RULE = "coach-market-events"
FEED_RULE = (
    "coach-feed-candidates"  # a feed's candidates: the same intake, whose campaign starts at clinical review
)


def substitutions() -> dict[str, str]:
    return asl_substitutions(lambda name: function_arn(name, REGION, ACCOUNT), DATA_BUCKET)


def render_definition(text: str, subs: dict[str, str]) -> str:
    """Apply `${Name}` substitutions exactly as CDK's definition_substitutions does; unknown names are errors."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in subs:
            raise KeyError(f"step definition uses ${{{name}}} but no substitution is defined for it")
        return subs[name]

    return re.sub(r"\$\{([A-Za-z0-9_]+)\}", replace, text)


def create_resources(client: Any, market_event_pattern: dict) -> str:
    """Everything a campaign needs; returns the state machine's ARN. `client(service)` gives a moto client."""
    s3 = client("s3")
    for bucket in (DATA_BUCKET, LETTERS_BUCKET):
        s3.create_bucket(Bucket=bucket)
    # the decision trail, as deployed: Object Lock in COMPLIANCE mode (stacks/constructs/storage.py)
    s3.create_bucket(Bucket=AUDIT_BUCKET, ObjectLockEnabledForBucket=True)
    s3.put_object_lock_configuration(
        Bucket=AUDIT_BUCKET,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Years": 6}},
        },
    )
    client("dynamodb").create_table(**table_definition(APPROVALS_TABLE))  # with the open-waits index
    ses = client("ses")
    ses.verify_domain_identity(Domain="pbm.example")
    ses.verify_email_identity(EmailAddress=SENDER)
    role = client("iam").create_role(
        RoleName="coach-local",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    raise NotImplementedError\n")
    lam = client("lambda")
    for name in FUNCTION_NAMES:
        lam.create_function(
            FunctionName=FUNCTION_PREFIX + name,
            Runtime="python3.11",
            Role=role,
            Handler="handler.handler",
            Code={"ZipFile": buffer.getvalue()},
        )
    definition = render_definition(ASL_PATH.read_text(encoding="utf-8"), substitutions())
    arn = client("stepfunctions").create_state_machine(
        name=STATE_MACHINE, definition=definition, roleArn=role, type="STANDARD"
    )["stateMachineArn"]
    client("events").put_rule(Name=MARKET_RULE, EventPattern=json.dumps(market_event_pattern))
    from coach.review.intake import FEED_PATTERN

    client("events").put_rule(Name=FEED_RULE, EventPattern=json.dumps(FEED_PATTERN))
    return str(arn)
