"""Informational emails: mandatory notices to account teams and clients, alerts to operators (no PHI)."""

from aws_lambda_powertools.utilities.typing import LambdaContext
from coach.adapters.stepfunctions import failed_states
from coach.models import Notice
from coach.notices import STATUS_CHANGE, alert_from_status_change, send_notice
from coach.observability import logger, metrics, tracer
from coach.runtime import mailer, objects
from coach.settings import settings


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    if (
        event.get("detail-type") == STATUS_CHANGE
    ):  # EventBridge: a campaign execution failed, timed out or stopped
        path, inner_error = failed_states(event["detail"]["executionArn"])
        notice = alert_from_status_change(event, path, inner_error)
    else:
        notice = Notice.model_validate(event)
    s = settings()
    sent = send_notice(
        notice,
        mailer=mailer(),
        objects=objects(),
        data_bucket=s.data_bucket,
        sender=s.sender_email,
        operator_email=s.operator_email,
    )
    logger.info("notice sent", extra={"campaign_id": notice.campaign_id, "kind": notice.kind, "emails": sent})
    metrics.add_metric(name="NoticesSent", unit="Count", value=sent)
    return {"emails": sent}
