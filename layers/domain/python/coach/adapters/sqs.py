"""The digest sender's wake-ups on SQS: one message per queued ask, delivered after the quiet period (the queue's
consumer is the `approval_digest` function, one at a time: a person's digest is never built twice at once)."""

from __future__ import annotations

import json

from coach.adapters.aws import client

MAX_SQS_DELAY_SECONDS = 900  # SQS's limit on a message's delivery delay


class SqsDigestScheduler:
    def __init__(self, queue_url: str) -> None:
        self.queue_url = queue_url

    def schedule(self, person: str, delay_seconds: float, task_token: str) -> None:
        # the token stays out of the message: the sender reads the person's queued asks from the table
        client("sqs").send_message(
            QueueUrl=self.queue_url,
            MessageBody=json.dumps({"person": person}),
            DelaySeconds=max(0, min(MAX_SQS_DELAY_SECONDS, round(delay_seconds))),
        )
