"""The approval pages behind API Gateway: GET/HEAD show (never decide), POST decides (CSRF-checked)."""

import time
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from coach.approvals.service import Page, decide, show
from coach.observability import logger, metrics, tracer
from coach.runtime import approval_store, callbacks

MAX_BODY = 8 * 1024
app = APIGatewayRestResolver()


def _html(page: Page, with_body: bool = True) -> Response:
    return Response(status_code=page.status, content_type="text/html; charset=utf-8",
                    body=page.html if with_body else "", headers=page.headers)


@app.route("/a/<link_id>", method=["GET", "HEAD"])
def confirmation_page(link_id: str) -> Response:
    page = show(link_id, store=approval_store(), now=int(time.time()))
    return _html(page, with_body=app.current_event.http_method != "HEAD")


@app.post("/a/<link_id>")
def decision(link_id: str) -> Response:
    body = app.current_event.decoded_body or ""
    if len(body.encode("utf-8")) > MAX_BODY:
        return Response(status_code=413, content_type="text/plain", body="Request too large")
    form = {name: values[0] for name, values in parse_qs(body, max_num_fields=10).items()}
    identity = app.current_event.request_context.identity
    page = decide(link_id, form, store=approval_store(), callbacks=callbacks(), now=int(time.time()),
                  source_ip=identity.source_ip or "", user_agent=identity.user_agent or "")
    metrics.add_metric(name="ApprovalDecisionsPosted", unit="Count", value=1)
    return _html(page)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
