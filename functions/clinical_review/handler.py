"""The clinical review of a feed's candidate: `ask` is a `.waitForTaskToken` task (email the clinical pharmacists a
review link; the token waits), `close` ends a campaign its review stopped (dismissed, or nobody reviewed it)."""

import time

from aws_lambda_powertools.utilities.typing import LambdaContext
from coach.observability import logger, metrics, tracer
from coach.review.models import ReviewClosing, ReviewRequest
from coach.review.outcome import close_review
from coach.review.service import request_review, reuse_review
from coach.runtime import approval_store, audit_archive, callbacks, mailer, objects
from coach.settings import settings


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    s = settings()
    if event.get("action") == "close":
        closing = ReviewClosing.model_validate(event)
        result = close_review(
            closing,
            approvals=approval_store(),
            objects=objects(),
            data_bucket=s.data_bucket,
            archive=audit_archive(),
            time_scale=s.time_scale,
        )
        logger.info(
            "campaign ended at its review",
            extra={"campaign_id": closing.campaign_id, "outcome": closing.outcome},
        )
        metrics.add_metric(name=f"Reviews{closing.outcome.title().replace('_', '')}", unit="Count", value=1)
        return result
    request = ReviewRequest.model_validate(event)
    if reuse_review(request, store=approval_store(), callbacks=callbacks()):
        logger.info("review reused (redrive): nobody asked again", extra={"campaign_id": request.campaign_id})
        return {"links": 0, "reused": True}
    sent = request_review(
        request,
        store=approval_store(),
        mailer=mailer(),
        sender=s.sender_email,
        base_url=s.approval_base_url,
        reviewers=s.clinical_reviewer_emails,
        escalation=s.clinical_escalation_emails,
        now=time.time(),
    )
    logger.info(
        "clinical review requested",
        extra={"campaign_id": request.campaign_id, "kind": request.kind, "links": len(sent)},
    )
    if not sent:
        logger.warning("no clinical reviewer configured: the review will time out and nothing starts")
    metrics.add_metric(name="ReviewLinksSent", unit="Count", value=len(sent))
    return {"links": len(sent)}
