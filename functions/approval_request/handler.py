"""A `.waitForTaskToken` task: email the people who decide a link to a confirmation page; the token waits."""

import time

from aws_lambda_powertools.utilities.typing import LambdaContext
from coach.approvals.asking import request_approval, reuse_decision
from coach.approvals.digest import Timing, queue_request
from coach.models import ApprovalRequest
from coach.observability import logger, metrics, tracer
from coach.runtime import approval_store, callbacks, digest_scheduler, digest_store, mailer, objects
from coach.settings import settings


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    request = ApprovalRequest.model_validate(event)
    s = settings()
    if reuse_decision(request, store=approval_store(), callbacks=callbacks()):
        logger.info(
            "decision reused (redrive or re-run): nobody asked again",
            extra={
                "campaign_id": request.campaign_id,
                "client_id": request.client.client_id,
                "role": request.role,
            },
        )
        metrics.add_metric(name="ApprovalDecisionsReused", unit="Count", value=1)
        return {"links": 0, "reused": True}
    if s.digest_quiet_seconds > 0:  # one email per person: queued here, sent by approval_digest
        queued = queue_request(
            request,
            store=approval_store(),
            digests=digest_store(),
            scheduler=digest_scheduler(),
            objects=objects(),
            data_bucket=s.data_bucket,
            timing=Timing(s.digest_quiet_seconds, s.digest_max_seconds),
            now=time.time(),
            letters_bucket=s.letters_bucket,  # the specimen letters its pages show
        )
        logger.info(
            "approval queued for digests",
            extra={
                "campaign_id": request.campaign_id,
                "client_id": request.client.client_id,
                "role": request.role,
                "kind": request.kind,
                "people": len(queued),
            },
        )
        if not queued:
            logger.warning(
                "nobody to ask: the wait will time out", extra={"client_id": request.client.client_id}
            )
        metrics.add_metric(name="ApprovalAsksQueued", unit="Count", value=len(queued))
        return {"queued": len(queued)}
    sent = request_approval(
        request,
        store=approval_store(),
        mailer=mailer(),
        objects=objects(),
        data_bucket=s.data_bucket,
        sender=s.sender_email,
        base_url=s.approval_base_url,
        now=time.time(),
        letters_bucket=s.letters_bucket,  # the specimen letters its pages show
        delegations=digest_store(),
    )
    logger.info(
        "approval requested",
        extra={
            "campaign_id": request.campaign_id,
            "client_id": request.client.client_id,
            "role": request.role,
            "kind": request.kind,
            "links": len(sent),
        },
    )
    if not sent:
        logger.warning("nobody to ask: the wait will time out", extra={"client_id": request.client.client_id})
    metrics.add_metric(name="ApprovalLinksSent", unit="Count", value=len(sent))
    return {"links": len(sent)}
