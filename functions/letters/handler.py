"""One Distributed Map item: render a batch of letters (PDF + manifest part) and send the email-channel ones."""

from aws_lambda_powertools.utilities.typing import LambdaContext
from coach.approvals.specimens import approved_templates
from coach.letters.service import generate_letter_batch
from coach.models import LetterBatchRequest
from coach.observability import logger, metrics, tracer
from coach.runtime import approval_store, letter_renderer, mailer, objects
from coach.settings import settings


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    request = LetterBatchRequest.model_validate(event["batch"])
    s = settings()
    result = generate_letter_batch(
        request,
        store=objects(),
        mailer=mailer(),
        data_bucket=s.data_bucket,
        letters_bucket=s.letters_bucket,
        sender=s.sender_email,
        render=letter_renderer(),
        approved=approved_templates(approval_store(), request.campaign_id, request.client_id),
    )
    logger.info(
        "letters batch",
        extra={
            "campaign_id": request.campaign_id,
            "client_id": request.client_id,
            "batch_index": request.batch_index,
            "letters": result.letters,
            "emails": result.emails,
            "skipped": result.skipped,
        },
    )
    if not result.skipped:  # a batch completed by an earlier attempt is not counted twice
        metrics.add_metric(name="LettersGenerated", unit="Count", value=result.letters)
        metrics.add_metric(name="LetterEmailsSent", unit="Count", value=result.emails)
    return result.model_dump(mode="json")
