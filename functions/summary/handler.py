"""Write report.json: per-client decisions and counts, and the campaign totals; archive the decision trail."""

from aws_lambda_powertools.utilities.typing import LambdaContext
from coach import keys
from coach.approvals.trail import archive_campaign_trail
from coach.campaign import build_report
from coach.models import MarketEvent
from coach.observability import logger, metrics, tracer
from coach.runtime import approval_store, audit_archive, objects
from coach.settings import settings


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    campaign_id = event["campaign_id"]
    report = build_report(
        campaign_id,
        MarketEvent.model_validate(event["event"]),
        store=objects(),
        data_bucket=settings().data_bucket,
        approvals=approval_store(),
        time_scale=settings().time_scale,
    )
    logger.info("campaign summary", extra={"campaign_id": campaign_id, **report["totals"]})
    if archive := audit_archive():
        try:  # the records stay in DynamoDB; the execution fails here and a redrive archives a fresh snapshot
            archive_campaign_trail(campaign_id, store=approval_store(), archive=archive)
        except Exception:
            metrics.add_metric(name="AuditArchiveFailed", unit="Count", value=1)
            raise
    metrics.add_metric(name="CampaignsCompleted", unit="Count", value=1)
    return {
        "status": report["status"],
        "report_key": keys.report_key(campaign_id),
        "totals": report["totals"],
    }
