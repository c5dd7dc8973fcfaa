"""Informational emails: mandatory notices to account teams and clients, alerts to operators (no PHI)."""

from aws_lambda_powertools.utilities.typing import LambdaContext
from coach.adapters.aws import client
from coach.approvals.notices import STATUS_CHANGE, alert_from_status_change, send_notice
from coach.models import Notice
from coach.observability import logger, metrics, tracer
from coach.runtime import mailer, objects
from coach.settings import settings


def _history(execution_arn: str) -> list[dict]:
    sfn = client("stepfunctions")
    kwargs: dict = {"executionArn": execution_arn, "maxResults": 1000, "includeExecutionData": False}
    events: list[dict] = []
    while True:
        page = sfn.get_execution_history(**kwargs)
        events += page["events"]
        if not page.get("nextToken"):
            return events
        kwargs["nextToken"] = page["nextToken"]


def _failed_child(execution_arn: str) -> str | None:
    """A failed child execution of the execution's newest map run that has failed ones (Distributed Map)."""
    sfn = client("stepfunctions")
    runs = sfn.list_map_runs(executionArn=execution_arn).get("mapRuns", [])
    for run in sorted(runs, key=lambda r: r.get("startDate") or 0, reverse=True):
        failed = sfn.list_executions(mapRunArn=run["mapRunArn"], statusFilter="FAILED", maxResults=1)
        if failed.get("executions"):
            return str(failed["executions"][0]["executionArn"])
    return None


def failed_states(execution_arn: str, depth: int = 3) -> tuple[list[str], str | None]:
    """The path of states down to where the campaign really failed — a Distributed Map fails as a whole
    (States.ExceedToleratedFailureThreshold) when one of its child executions fails, so look inside the failed
    child, and inside its own map — and the innermost failure's error name. Histories are read without execution
    data: state names and error names only. Anything unreadable (a permission, a throttle) stops the descent:
    the alert then names the outer stage, as it always could."""
    path: list[str] = []
    error: str | None = None
    arn: str | None = execution_arn
    while arn and depth > 0:
        events = _history(arn)
        entered = [
            e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")
        ]
        if not entered:
            break
        path.append(entered[-1])
        failed = [e["executionFailedEventDetails"] for e in events if e.get("executionFailedEventDetails")]
        if failed and failed[-1].get("error"):
            error = str(failed[-1]["error"])
        depth -= 1
        if depth == 0:
            break
        try:
            arn = _failed_child(arn)
        except Exception:  # an alert with the outer stage beats no alert
            logger.warning(
                "could not look inside the failed map run", extra={"execution": arn.rsplit(":", 1)[-1]}
            )
            break
    return path, error


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
