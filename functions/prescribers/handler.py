"""After every client decided: one notice per prescriber of the approving clients' patients, planned into batches
in S3; keys and counts come back (no patient, no prescriber in the workflow's state)."""

from aws_lambda_powertools.utilities.typing import LambdaContext
from coach.models import CampaignInput
from coach.observability import logger, metrics, tracer
from coach.prescribers.notices import pin
from coach.prescribers.plan import plan_notices
from coach.prescribers.policy import policy_of
from coach.runtime import claims_engine, objects
from coach.settings import settings


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    campaign = CampaignInput.model_validate(event)
    plan = plan_notices(
        campaign,
        engine=claims_engine(),
        store=objects(),
        data_bucket=settings().data_bucket,
        batch_size=settings().batch_size,
        template_sha256=pin(policy_of(campaign.playbook).template_id).sha256,
    )
    metrics.add_metric(name="PrescriberNoticesPlanned", unit="Count", value=plan.notices)
    return plan.model_dump(mode="json")
