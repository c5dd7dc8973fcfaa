"""The digest sender: woken per person (SQS messages delayed by the quiet period), sends that person's queued asks
as one email when the timing rule says so (coach.approvals.digest)."""

import json
import time

from aws_lambda_powertools.utilities.typing import LambdaContext
from coach.approvals.digest import Timing, send_due, token_fingerprint
from coach.observability import logger, metrics, tracer
from coach.runtime import approval_store, digest_store, mailer
from coach.settings import settings


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    s = settings()
    timing = Timing(s.digest_quiet_seconds, s.digest_max_seconds)
    emailed: list[str] = []
    dropped: list[str] = []
    emails = 0
    for record in event.get("Records", []):
        person = str(json.loads(record["body"])["person"])
        sent = send_due(
            person,
            store=approval_store(),
            digests=digest_store(),
            mailer=mailer(),
            sender=s.sender_email,
            base_url=s.approval_base_url,
            timing=timing,
            now=time.time(),
        )
        emailed += sent.emailed
        dropped += sent.dropped
        emails += sent.emails
    logger.info("digests", extra={"emails": emails, "asks_sent": len(emailed), "asks_dropped": len(dropped)})
    metrics.add_metric(name="ApprovalDigestsSent", unit="Count", value=emails)
    # which waits were handled, as token fingerprints (never a token): the local runtime's timer holds those waits
    # until their email is out; SQS ignores a result
    return {"emails": emails, "handled": [token_fingerprint(t) for t in emailed + dropped]}
