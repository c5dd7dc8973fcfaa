"""Every 5 minutes (EventBridge schedule): how many approval questions are waiting for an answer, and how long the
oldest has waited — the dashboard's gauge of callback waits open. Counts only: no person, no address, no token."""

import time

from aws_lambda_powertools.utilities.typing import LambdaContext
from coach.adapters.stepfunctions import execution_arn, is_running
from coach.approvals.waits import oldest_seconds, open_waits
from coach.observability import logger, metrics, tracer
from coach.runtime import approval_store
from coach.settings import settings


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    machine = settings().state_machine_arn
    now = time.time()
    waits = open_waits(
        approval_store(), now, lambda campaign_id: is_running(execution_arn(machine, campaign_id))
    )
    oldest = oldest_seconds(waits, now)
    metrics.add_metric(name="ApprovalWaitsOpen", unit="Count", value=len(waits))
    metrics.add_metric(name="OldestApprovalWaitSeconds", unit="Seconds", value=round(oldest, 1))
    logger.info("open approval waits", extra={"open": len(waits), "oldest_seconds": round(oldest)})
    return {"open": len(waits), "oldest_seconds": round(oldest, 1)}
