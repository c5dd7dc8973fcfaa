"""One PrescriberNotices Distributed Map item: render a batch of prescriber notices (PDF + manifest part)."""

from aws_lambda_powertools.utilities.typing import LambdaContext
from coach.observability import logger, metrics, tracer
from coach.prescribers.notices import NoticeBatchRequest, generate_notice_batch
from coach.runtime import letter_renderer, objects
from coach.settings import settings


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    request = NoticeBatchRequest.model_validate(event["batch"])
    s = settings()
    result = generate_notice_batch(
        request,
        store=objects(),
        data_bucket=s.data_bucket,
        letters_bucket=s.letters_bucket,
        render=letter_renderer(),
    )
    logger.info(
        "prescriber notices batch",
        extra={
            "campaign_id": request.campaign_id,
            "batch_index": request.batch_index,
            "notices": result.notices,
            "skipped": result.skipped,
        },
    )
    if not result.skipped:
        metrics.add_metric(name="PrescriberNoticesGenerated", unit="Count", value=result.notices)
    return result.model_dump(mode="json")
