"""EventBridge → one campaign per event_id (a duplicate delivery starts nothing)."""

import os
from datetime import UTC, datetime

from aws_lambda_powertools.utilities.typing import LambdaContext
from coach.adapters.aws import StateMachineStarter
from coach.intake import start_campaign
from coach.observability import logger, metrics, tracer
from coach.runtime import objects
from coach.settings import settings


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    result = start_campaign(
        event,
        starter=StateMachineStarter(os.environ["STATE_MACHINE_ARN"]),
        store=objects(),
        data_bucket=settings().data_bucket,
        time_scale=settings().time_scale,
        now=datetime.now(UTC),
        letters_max_concurrency=int(os.environ.get("LETTERS_MAX_CONCURRENCY", "50")),
    )
    logger.info(
        "intake",
        extra={
            "status": result["status"],
            "campaign_id": result.get("campaign_id"),
            "reasons": result.get("reasons"),
        },
    )
    metrics.add_metric(name=f"Events{result['status'].capitalize()}", unit="Count", value=1)
    return result
