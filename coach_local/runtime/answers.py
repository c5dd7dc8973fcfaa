"""Local callback waits count only the time during which their question could have been answered.

A playbook's wait (TimeoutSeconds of an approval task, a few seconds locally) is a deadline for people. Locally the
clock the deadline runs on must not be the machine's: with hundreds of clients one process is busy for minutes, and
an answer given at once would otherwise arrive after a wait of seconds ran out (issue 20: 1,018 of 1,100 waits).
So a wait starts when its request has been sent (the approval function has returned), and stands still while an
answer to its question is on its way (`hold`: from the moment the approver receives the email until its submit
returns, by which time the workflow has heard). Nobody answering (`none`) still times out, reminds and escalates."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

Question = tuple[str, str, str, str]  # campaign, client, role, attempt
HELD_RECHECK_SECONDS = 0.5  # while an answer is on its way: how often the wait checks it is still coming


def question_of(campaign_id: object, client_id: object, role: object, attempt: object) -> Question:
    return (str(campaign_id), str(client_id), str(role), str(attempt))


class AnswerClock:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._asked: dict[str, Question] = {}  # task token → the question its request asked
        self._held: Counter[Question] = Counter()
        self._queued: set[str] = set()  # task tokens whose ask waits in a digest queue (not emailed yet)

    def observe(self, function: str, event: dict) -> None:
        """Registry listener: an approval request names its question and the task token its wait listens on."""
        if function not in ("approval_request", "clinical_review") or not isinstance(event, dict):
            return
        # a clinical review's question is the campaign's own (coach.review.models.REVIEW_CLIENT)
        review = {"client_id": "clinical-review"} if function == "clinical_review" else {}
        client: dict = event["client"] if isinstance(event.get("client"), dict) else review
        if function == "clinical_review" and event.get("action") != "ask":
            return
        role = "clinical_reviewer" if function == "clinical_review" else event.get("role")
        token = event.get("task_token")
        if isinstance(token, str):
            question = question_of(
                event.get("campaign_id"), client.get("client_id"), role, event.get("attempt", 0)
            )
            with self._lock:
                self._asked[token] = question

    @contextmanager
    def answering(self, question: Question) -> Iterator[None]:
        self.hold(question)
        try:
            yield
        finally:
            self.release(question)

    def hold(self, question: Question) -> None:
        with self._lock:
            self._held[question] += 1

    def release(self, question: Question) -> None:
        with self._lock:
            self._held[question] -= 1
            if self._held[question] <= 0:
                del self._held[question]

    def queue_token(self, token: str) -> None:
        """The ask of this wait is queued for a digest: its wait stands still until `sent_token`."""
        with self._lock:
            self._queued.add(token)

    def sent_token(self, token: str) -> None:
        with self._lock:
            self._queued.discard(token)

    def held(self, token: str) -> bool:
        with self._lock:
            if token in self._queued:
                return True
            question = self._asked.get(token)
            return question is not None and self._held[question] > 0

    def wait(self, endpoint: Any, timeout_seconds: float) -> Any:
        """moto's CallbackEndpoint.wait(timeout), on this clock: the outcome, or None when timed out or interrupted."""
        token = str(endpoint.callback_id)
        try:
            return self._wait(endpoint, token, float(timeout_seconds))
        finally:
            with self._lock:
                self._asked.pop(token, None)
                self._queued.discard(token)

    def _wait(self, endpoint: Any, token: str, remaining: float) -> Any:
        while True:
            held = self.held(token)
            began = time.monotonic()
            outcome = endpoint.wait(timeout=HELD_RECHECK_SECONDS if held else max(0.0, remaining))
            if outcome is not None:
                return outcome
            if endpoint._notify_event.is_set():  # interrupted: the task ended another way
                return None
            if not held:
                remaining -= time.monotonic() - began
                if remaining <= 0 and not self.held(token):
                    return None
