"""The local runtime's digest timer: a wake-up runs the digest function after its delay, and the waits of the asks
it sent run again (they stood still while queued); a failing wake-up is retried, then its waits are let go."""

from __future__ import annotations

import threading

from coach.approvals.digest import token_fingerprint

from coach_local.runtime.answers import AnswerClock
from coach_local.runtime.digests import RETRY_ATTEMPTS, LocalDigestScheduler


class Registry:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.events: list[dict] = []
        self.done = threading.Event()

    def invoke(self, name: str, event: dict) -> dict:
        self.events.append(event)
        if self.fail:
            if len(self.events) == RETRY_ATTEMPTS:
                self.done.set()
            raise RuntimeError("SES throttled")
        self.done.set()
        return {"emails": 1, "handled": [token_fingerprint("tok-1")]}


def test_a_wake_up_sends_the_digest_and_lets_its_waits_run():
    answers, registry = AnswerClock(), Registry()
    timer = LocalDigestScheduler(registry, answers)  # type: ignore[arg-type]
    timer.start()
    try:
        timer.schedule("person-1", 0.01, "tok-1")
        assert answers.held("tok-1"), "a queued ask's wait stands still"
        assert registry.done.wait(30)
    finally:
        timer.stop()
    assert registry.events == [{"Records": [{"body": '{"person": "person-1"}'}]}]
    assert not answers.held("tok-1")


def test_a_wake_up_that_keeps_failing_is_retried_then_its_waits_run_again():
    answers, registry = AnswerClock(), Registry(fail=True)
    timer = LocalDigestScheduler(registry, answers)  # type: ignore[arg-type]
    timer.start()
    try:
        timer.schedule("person-1", 0.01, "tok-1")
        assert registry.done.wait(60)
    finally:
        timer.stop()
    assert len(registry.events) == RETRY_ATTEMPTS
    assert not answers.held("tok-1") and timer.errors == ["a digest: RuntimeError: SES throttled"]
