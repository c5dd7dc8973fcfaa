"""EventBridge → one campaign per event_id (a duplicate delivery starts nothing)."""

import json
from datetime import UTC, datetime

from aws_lambda_powertools.utilities.typing import LambdaContext
from coach.intake import start_campaign
from coach.observability import logger, metrics, tracer
from coach.runtime import objects, starter
from coach.settings import settings


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    s = settings()
    result = start_campaign(
        event,
        starter=starter(),
        store=objects(),
        data_bucket=s.data_bucket,
        time_scale=s.time_scale,
        now=datetime.now(UTC),
        letters_max_concurrency=s.letters_max_concurrency,
        measurement_overrides=json.loads(s.measurement_overrides) if s.measurement_overrides else None,
        follow_up_time_scale=s.follow_up_time_scale,
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
