"""A letters batch that fails makes the campaign fail (zero tolerated failures) and alerts the operator without
PHI; a transient fault (throttling) is retried by the state machine and the campaign completes unchanged."""

from __future__ import annotations

import email
import email.policy
from datetime import date
from pathlib import Path

import pytest

from coach_local.inputs import load_event
from coach_local.runner import run_campaign
from tests.workflow.tiny_lake import CLARITIN_NDC, client, member, write_lake

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


class Throttled(Exception):
    error_type = "Lambda.TooManyRequestsException"


def lake(base: Path) -> Path:
    return write_lake(
        base / "lake",
        [client("C1", "One", {"otc_switch": "always"}), client("C2", "Two")],
        [member("M1", "C1", "Ada", "Lovelace"), member("M2", "C2", "Alan", "Turing")],
        [(m, CLARITIN_NDC, date(2002, 10, 1), "paid") for m in ("M1", "M2")],
    )


def run(base: Path, fault):
    return run_campaign(
        load_event(ROOT / "coach_local/events/claritin_otc.json"),
        lake(base),
        base / "out",
        timeout=180,
        time_scale=1 / 86_400,
        faults={"letters": fault},
    )


def test_a_failed_letters_batch_fails_the_campaign_and_alerts_the_operator(tmp_path):
    def broken_printer(event):
        if event["batch"]["client_id"] == "C2":
            raise OSError("simulated: the letters bucket refused the write")

    result = run(tmp_path, broken_printer)
    assert result.status == "FAILED"
    assert result.report is None or result.report["status"] == "failed"
    alerts = []
    for path in (result.out_dir / "outbox").glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message.get("X-Coach-Kind") == "operator_alert":
            body = message.get_body(("plain",))
            assert body is not None
            alerts.append(body.get_content())
    assert len(alerts) == 1 and "clients" in alerts[0] and "ExceedToleratedFailureThreshold" in alerts[0]
    assert "Turing" not in alerts[0] and "Lovelace" not in alerts[0]


def test_throttled_letters_batch_is_retried_and_the_campaign_completes(tmp_path):
    calls = {"n": 0}

    def throttled_once(event):
        calls["n"] += 1
        if calls["n"] == 1:
            raise Throttled("Rate exceeded")

    result = run(tmp_path, throttled_once)
    assert result.status == "SUCCEEDED", result.error
    assert result.report["totals"]["letters"] == 2 and calls["n"] >= 3
