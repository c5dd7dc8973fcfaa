"""Write report.json: per-client decisions and counts, and the campaign totals; archive the decision trail."""

from aws_lambda_powertools.utilities.typing import LambdaContext
from coach import keys
from coach.adapters.audit_archive import archive_audit
from coach.approvals.service import audit_trail
from coach.campaign import build_report
from coach.models import MarketEvent
from coach.observability import logger, metrics, tracer
from coach.runtime import approval_store, objects
from coach.settings import settings


def archive_decision_trail(campaign_id: str, bucket: str) -> None:
    """The campaign's complete decision trail, as one immutable snapshot in the Object Lock bucket. The records
    stay in DynamoDB whatever happens here; a failure is logged (ids only) and raised, so the execution fails
    at this stage, the operator is alerted, and a redrive archives a fresh snapshot (never an overwrite)."""
    try:
        records = audit_trail(campaign_id, store=approval_store())
        archive_audit(records, campaign_id, bucket=bucket)
    except Exception as error:
        logger.error(
            "audit archive failed", extra={"campaign_id": campaign_id, "error": type(error).__name__}
        )
        metrics.add_metric(name="AuditArchiveFailed", unit="Count", value=1)
        raise
    logger.info("decision trail archived", extra={"campaign_id": campaign_id, "records": len(records)})


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
    bucket = settings().audit_bucket
    if bucket:
        archive_decision_trail(campaign_id, bucket)
    metrics.add_metric(name="CampaignsCompleted", unit="Count", value=1)
    return {
        "status": report["status"],
        "report_key": keys.report_key(campaign_id),
        "totals": report["totals"],
    }
