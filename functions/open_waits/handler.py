"""Every 5 minutes (EventBridge schedule): how many approval questions are waiting for an answer, and how long the
oldest has waited — the dashboard's gauge of callback waits open. Counts only: no person, no address, no token."""

import os
import time
from functools import cache

from aws_lambda_powertools.utilities.typing import LambdaContext
from coach.adapters.aws import client
from coach.approvals.waits import oldest_seconds, open_waits
from coach.observability import logger, metrics, tracer
from coach.runtime import approval_store


def execution_arn(state_machine_arn: str, campaign_id: str) -> str:
    """A campaign's execution is named after it (intake); a redrive keeps the same execution."""
    return state_machine_arn.replace(":stateMachine:", ":execution:", 1) + ":" + campaign_id


@cache
def _running(state_machine_arn: str, campaign_id: str) -> bool:
    sfn = client("stepfunctions")
    try:  # metadata only: the execution's input and output stay encrypted, and this function holds no key
        described = sfn.describe_execution(
            executionArn=execution_arn(state_machine_arn, campaign_id), includedData="METADATA_ONLY"
        )
    except sfn.exceptions.ExecutionDoesNotExist:
        return False
    return bool(described["status"] == "RUNNING")


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    state_machine_arn = os.environ["STATE_MACHINE_ARN"]
    _running.cache_clear()
    now = time.time()
    waits = open_waits(approval_store(), now, lambda campaign_id: _running(state_machine_arn, campaign_id))
    oldest = oldest_seconds(waits, now)
    metrics.add_metric(name="ApprovalWaitsOpen", unit="Count", value=len(waits))
    metrics.add_metric(name="OldestApprovalWaitSeconds", unit="Seconds", value=round(oldest, 1))
    logger.info("open approval waits", extra={"open": len(waits), "oldest_seconds": round(oldest)})
    return {"open": len(waits), "oldest_seconds": round(oldest, 1)}
