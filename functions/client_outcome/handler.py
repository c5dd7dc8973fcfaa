"""Close one client's branch: close its pending links, merge its letter manifest, record the outcome (counts only),
and alert the operator when the client's contacts could not be used."""

from aws_lambda_powertools.utilities.typing import LambdaContext
from coach.approvals.waits import close_waits
from coach.campaign import OutcomeRequest, record_outcome
from coach.letters.service import merge_client_manifest
from coach.models import Notice
from coach.notices import send_notice
from coach.observability import logger, metrics, tracer
from coach.runtime import approval_store, mailer, objects
from coach.settings import settings


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    request = OutcomeRequest.model_validate(event)
    # the branch is over: a link still pending (a silent team's last email) must not take a click as a decision
    closed = close_waits(request.campaign_id, request.client.client_id, store=approval_store())
    outcome = record_outcome(
        request,
        store=objects(),
        data_bucket=settings().data_bucket,
        letters_bucket=settings().letters_bucket,
        merge_manifest=merge_client_manifest,
    )
    logger.info(
        "client outcome",
        extra={
            "campaign_id": request.campaign_id,
            "client_id": outcome.client_id,
            "outcome": outcome.outcome,
            "links_closed": closed,
        },
    )
    metrics.add_metric(name=f"Client_{outcome.outcome}", unit="Count", value=1)
    if (
        request.client.contacts_error
    ):  # isolated: nobody was asked; the operator is told which client and columns
        s = settings()
        notice = Notice(campaign_id=request.campaign_id, kind="invalid_contacts", client=request.client)
        send_notice(
            notice,
            mailer=mailer(),
            objects=objects(),
            data_bucket=s.data_bucket,
            sender=s.sender_email,
            operator_email=s.operator_email,
        )
    if outcome.outcome.startswith("no_response"):
        # A question passed its final deadline unanswered (every reminder, then the escalation): the alarm
        # CallbackWaitPastDeadline. The reminders' own timeouts are the playbook working, not alarms.
        metrics.add_metric(name="ApprovalsPastDeadline", unit="Count", value=1)
    return {"client_id": outcome.client_id, "letters": outcome.letters + outcome.emails}
