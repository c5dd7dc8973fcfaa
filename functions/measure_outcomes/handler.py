"""After the follow-up period: measure what lettered and held-out members did next, tell the account teams and
the clients (counts and rates only), and keep the figures for the report."""

from aws_lambda_powertools.utilities.typing import LambdaContext
from coach.observability import logger, metrics, tracer
from coach.outcomes.notices import send_outcome_emails
from coach.outcomes.service import MeasureRequest, measure_outcomes
from coach.runtime import claims_engine, mailer, objects
from coach.settings import settings


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    request = MeasureRequest.model_validate(event)
    s = settings()
    outcomes = measure_outcomes(
        request,
        engine=claims_engine(),
        store=objects(),
        data_bucket=s.data_bucket,
        letters_bucket=s.letters_bucket,
    )
    emails = send_outcome_emails(
        outcomes,
        request.event,
        campaign_id=request.campaign_id,
        mailer=mailer(),
        store=objects(),
        data_bucket=s.data_bucket,
        sender=s.sender_email,
    )
    totals = outcomes["totals"]
    logger.info(
        "campaign outcomes",
        extra={
            "campaign_id": request.campaign_id,
            "clients": len(outcomes["clients"]),
            "lettered": totals["lettered"]["members"],
            "held_out": totals["held_out"]["members"],
            "emails": emails,
        },
    )
    metrics.add_metric(name="OutcomesMeasured", unit="Count", value=1)
    return {
        "clients": len(outcomes["clients"]),
        "lettered": totals["lettered"]["members"],
        "held_out": totals["held_out"]["members"],
    }
