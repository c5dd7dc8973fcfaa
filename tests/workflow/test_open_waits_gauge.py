"""The open-waits gauge (the scheduled `open_waits` function) against a real local campaign: while the account team
has not answered, one wait is open and ageing; once the campaign has finished, none is."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import pytest

from coach_local.approver import answer
from coach_local.inputs import load_event
from coach_local.runtime import LocalRuntime
from tests.workflow.tiny_lake import CLARITIN_NDC, client, member, write_lake

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def approval_links(outbox: Path, role: str) -> list[str]:
    """The links of the emails asking `role` about C1, read from the decoded message (its body may be encoded)."""
    from coach_local.approver import read_approval_email

    links = []
    for path in sorted(outbox.glob(f"approval_*C1_{role}_0_*.eml")):
        asked = read_approval_email(path.read_bytes())
        assert asked is not None, path.name
        links.append(asked.link)
    return links


def wait_for(predicate, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_the_gauge_counts_the_unanswered_question_and_nothing_once_the_campaign_is_done(tmp_path):
    lake = write_lake(
        tmp_path / "lake",
        [client("C1", "One")],
        [member("M1", "C1", "Ada", "Lovelace")],
        [("M1", CLARITIN_NDC, date(2002, 10, 1), "paid")],
    )
    with LocalRuntime(tmp_path / "out", lake, time_scale=1 / 600) as runtime:
        intake = runtime.put_event(load_event(ROOT / "coach_local/events/claritin_otc.json"))
        outbox = runtime.out_dir / "outbox"
        [team_link, *_] = wait_for(lambda: approval_links(outbox, "account_team"))
        time.sleep(0.2)
        gauge = runtime.registry.invoke(
            "open_waits", {"source": "aws.events", "detail-type": "Scheduled Event"}
        )
        assert gauge["open"] == 1 and gauge["oldest_seconds"] > 0
        assert answer(team_link, "approve") == 200
        [client_link, *_] = wait_for(lambda: approval_links(outbox, "client"))
        assert answer(client_link, "approve") == 200
        run = runtime.wait(intake["campaign_id"], timeout=120)
        assert run.status == "SUCCEEDED", run.error
        assert runtime.registry.invoke("open_waits", {}) == {"open": 0, "oldest_seconds": 0.0}
