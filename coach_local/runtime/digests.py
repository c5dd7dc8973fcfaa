"""The digest sender's wake-ups locally: what SQS's delivery delay does on AWS, on the runtime's own clock.

`schedule` is called by the approval_request function for each ask it queues; after the delay one worker invokes
`approval_digest` with the SQS-shaped event AWS would send. Nothing polls: the timer thread sleeps until the next
wake-up is due or a new one is scheduled. While an ask waits in a person's queue, its callback wait stands still
(AnswerClock.queue_token), the way a local wait starts only once its email is out."""

from __future__ import annotations

import heapq
import itertools
import json
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from coach.approvals.digest import token_fingerprint

from coach_local.dispatch import FunctionRegistry
from coach_local.runtime.answers import AnswerClock

DEFAULT_QUIET_SECONDS = 0.25  # local asks of one campaign arrive within moments of each other
DEFAULT_MAX_SECONDS = 1.0


def timing(quiet: float | None, max_delay: float | None) -> tuple[float, float]:
    """The runtime's (quiet, max delay); None takes this module's defaults as they are now (a test may set them)."""
    return (
        DEFAULT_QUIET_SECONDS if quiet is None else quiet,
        DEFAULT_MAX_SECONDS if max_delay is None else max_delay,
    )


RETRY_ATTEMPTS = 3  # a failing wake-up is retried (SQS's redrive); then that person's waits run again
BATCH = 10  # wake-ups due together go to one invocation, as SQS hands a Lambda up to 10 messages
BUSY_RETRY_SECONDS = 0.05  # a person whose digest is being built now is woken again just after


class LocalDigestScheduler:
    def __init__(self, registry: FunctionRegistry, answers: AnswerClock, workers: int = 2) -> None:
        self.registry, self.answers = registry, answers
        self.errors: list[str] = []
        self._due: list[tuple[float, int, str, int]] = []  # (when, order, person, attempt)
        self._order = itertools.count()
        self._tokens: dict[str, set[str]] = defaultdict(set)  # person → tokens whose asks wait for them
        self._busy: set[str] = set()  # people whose digest an invocation is building now
        self._wake = threading.Condition()
        self._stopped = False
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="digest")
        self._thread = threading.Thread(target=self._run, daemon=True, name="digest-timer")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._wake:
            self._stopped = True
            self._wake.notify_all()
        self._thread.join(timeout=5)
        self._pool.shutdown(wait=True)

    # the port (coach.ports.DigestScheduler)
    def schedule(self, person: str, delay_seconds: float, task_token: str) -> None:
        self.answers.queue_token(task_token)
        with self._wake:
            self._tokens[person].add(task_token)
            heapq.heappush(self._due, (time.monotonic() + delay_seconds, next(self._order), person, 0))
            self._wake.notify()

    def _run(self) -> None:
        with self._wake:
            while not self._stopped:
                if not self._due:
                    self._wake.wait()
                    continue
                delay = self._due[0][0] - time.monotonic()
                if delay > 0:
                    self._wake.wait(timeout=delay)
                    continue
                batch: dict[str, int] = {}
                while self._due and self._due[0][0] <= time.monotonic() and len(batch) < BATCH:
                    _, _, person, attempt = heapq.heappop(self._due)
                    if person in self._busy:  # one person's digest is built by one invocation at a time
                        heapq.heappush(
                            self._due,
                            (time.monotonic() + BUSY_RETRY_SECONDS, next(self._order), person, attempt),
                        )
                        continue
                    batch[person] = max(attempt, batch.get(person, 0))
                self._busy.update(batch)
                if batch:
                    self._pool.submit(self._send, batch)

    def _send(self, batch: dict[str, int]) -> None:
        records = [{"body": json.dumps({"person": person})} for person in batch]
        try:
            result: Any = self.registry.invoke("approval_digest", {"Records": records})
        except Exception as exc:
            with self._wake:
                self._busy.difference_update(batch)
            for person, attempt in batch.items():
                self._failed(person, attempt, exc)
            return
        handled = set(result.get("handled", []))
        with self._wake:
            self._busy.difference_update(batch)
            done = {p: [t for t in self._tokens[p] if token_fingerprint(t) in handled] for p in batch}
        for person, tokens in done.items():
            self._release(person, tokens)

    def _release(self, person: str, tokens: list[str]) -> None:
        with self._wake:
            for token in tokens:
                self._tokens[person].discard(token)
        for token in tokens:
            self.answers.sent_token(token)

    def _failed(self, person: str, attempt: int, exc: Exception) -> None:
        if attempt + 1 < RETRY_ATTEMPTS:
            with self._wake:
                heapq.heappush(self._due, (time.monotonic() + 1.0, next(self._order), person, attempt + 1))
                self._wake.notify()
            return
        self.errors.append(f"a digest: {type(exc).__name__}: {exc}")
        with self._wake:
            tokens = list(self._tokens.pop(person, set()))
        self._release(person, tokens)
