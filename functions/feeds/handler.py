"""EventBridge Scheduler, one schedule per feed (`{"feed": "fda-recalls"}`): poll that FDA source, put its candidates
on the bus from `coach.feed.<feed>` for clinical review (never as `coach.market-feed`: nothing starts unconfirmed),
then keep the new watermark and hashes. Public FDA data only: no member data here."""

from datetime import UTC, datetime

from aws_lambda_powertools.utilities.typing import LambdaContext
from coach.feeds.service import run_feed
from coach.observability import logger, metrics, tracer
from coach.runtime import event_publisher, feed_archive, feed_state, openfda


@logger.inject_lambda_context(log_event=False)  # no event bodies in logs (the feed name is in the summary)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    feed = str(event.get("feed", ""))
    result = run_feed(
        feed,
        feed_state(),
        event_publisher(),
        datetime.now(UTC).date(),
        archive=lambda: feed_archive(feed),
        enforcement=openfda,
    )
    metrics.add_metric(name="FeedCandidates", unit="Count", value=len(result.candidates))
    summary = {
        "feed": feed,
        "candidates": len(result.candidates),
        "unchanged": result.unchanged,
        "skipped": result.skipped,
        "warnings": result.warnings[:20],
    }
    logger.info("feed polled", extra=summary)
    return summary
