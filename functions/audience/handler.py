"""Find the affected members with one parameterised query; members go to S3, counts come back."""

from aws_lambda_powertools.utilities.typing import LambdaContext
from coach.audience.service import build_audience
from coach.models import CampaignInput
from coach.observability import logger, metrics, tracer
from coach.prescribers.estimate import estimate_prescribers
from coach.runtime import claims_engine, objects
from coach.settings import settings


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    campaign = CampaignInput.model_validate(event)
    summary = build_audience(
        campaign,
        engine=claims_engine(),
        store=objects(),
        data_bucket=settings().data_bucket,
        batch_size=settings().batch_size,
        letters_bucket=settings().letters_bucket,
    )
    # issue 17: how many prescribers each client's approval would notify, for the account team's email
    estimate_prescribers(
        campaign, engine=claims_engine(), store=objects(), data_bucket=settings().data_bucket
    )
    logger.info(
        "audience",
        extra={
            "campaign_id": campaign.campaign_id,
            "clients": summary.client_count,
            "affected": summary.affected,
            "reachable": summary.reachable,
        },
    )
    metrics.add_metric(name="MembersAffected", unit="Count", value=summary.affected)
    metrics.add_metric(name="MembersReachable", unit="Count", value=summary.reachable)
    return summary.model_dump(mode="json")
