"""The system's Lambda functions, in one place: CDK deploys them from it, the local runtime dispatches to them from
it, and the ASL names them by the substitutions it derives (`${AudienceFunctionArn}`, …). A function's code is
`functions/<name>/handler.py`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    memory_mb: int
    timeout_seconds: int
    reserved_concurrency: int
    in_workflow: bool  # a Task of the campaign state machine (its ARN is an ASL substitution)

    @property
    def asl_substitution(self) -> str:
        """approval_request → ApprovalRequestFunctionArn (the ${...} name in the ASL file)."""
        return "".join(part.capitalize() for part in self.name.split("_")) + "FunctionArn"


FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec("intake", 256, 30, 10, in_workflow=False),  # EventBridge rule → StartExecution
    FunctionSpec(
        "clinical_review", 512, 60, 10, in_workflow=True
    ),  # a feed's candidate: ask, or end at review
    FunctionSpec("audience", 2048, 900, 5, in_workflow=True),
    FunctionSpec("approval_request", 512, 60, 20, in_workflow=True),
    FunctionSpec("approval_api", 512, 15, 20, in_workflow=False),  # API Gateway: the approval pages
    # SQS: one email per person (docs/architecture.md, "Digests"); one at a time, so no digest is built twice
    FunctionSpec("approval_digest", 512, 60, 1, in_workflow=False),
    FunctionSpec("notify", 256, 60, 10, in_workflow=True),
    FunctionSpec("letters", 2048, 900, 50, in_workflow=True),
    FunctionSpec("client_outcome", 1024, 300, 20, in_workflow=True),
    FunctionSpec("summary", 512, 300, 5, in_workflow=True),
    FunctionSpec("prescribers", 3008, 900, 5, in_workflow=True),  # issue 17: plans the prescriber notices
    FunctionSpec("prescriber_notices", 2048, 900, 50, in_workflow=True),  # one batch of prescriber notices
    FunctionSpec("measure_outcomes", 1024, 900, 5, in_workflow=True),  # after the follow-up (coach.outcomes)
    FunctionSpec("open_waits", 256, 60, 1, in_workflow=False),  # the open-waits gauge, every 5 minutes
    FunctionSpec(
        "feeds", 1536, 900, 2, in_workflow=False
    ),  # EventBridge Scheduler: one schedule per FDA feed
)
FUNCTION_NAMES: tuple[str, ...] = tuple(f.name for f in FUNCTIONS)
IN_WORKFLOW: tuple[str, ...] = tuple(f.name for f in FUNCTIONS if f.in_workflow)
DATA_BUCKET_SUBSTITUTION = "DataBucket"


def asl_substitutions(function_arn: Callable[[str], str], data_bucket: str) -> dict[str, str]:
    """Every `${Name}` of the ASL file: each workflow function's ARN, and the data bucket."""
    subs = {f.asl_substitution: function_arn(f.name) for f in FUNCTIONS if f.in_workflow}
    subs[DATA_BUCKET_SUBSTITUTION] = data_bucket
    return subs
