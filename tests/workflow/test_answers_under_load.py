"""A decision given is never lost to load (issue 20): the machine is slowed on purpose — every function invocation
sleeps longer than the playbook's scaled waits — and still every approval and decline lands, while the client
nobody answers still gets its reminder and escalation and ends `no_response`."""

from __future__ import annotations

import threading
import time
from datetime import date
from pathlib import Path

import pytest
from coach.catalog import FUNCTION_NAMES

from coach_local.inputs import load_event
from coach_local.runner import run_campaign
from tests.workflow.tiny_lake import CLARITIN_NDC, client, member, write_lake

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
EVENT = ROOT / "coach_local" / "events" / "claritin_otc.json"
FILL = date(2002, 10, 15)
SCALE = 1 / 259_200  # the account team's 3 days last 1 s here, the client's 5 days 2 s
SLOWNESS = 2.5  # seconds every invocation sleeps before its handler runs: longer than either wait


def _slow(event: dict) -> None:
    time.sleep(SLOWNESS)


def test_every_answer_lands_on_a_machine_slower_than_the_waits(tmp_path):
    clients = [
        client("C1", "Approves Inc"),
        client("C2", "Team Declines Ltd"),
        client("C3", "Client Silent Corp"),
        client("C4", "Approves Too LLC"),
    ]
    members = [member(f"M{n}00", f"C{n}", f"First{n}", f"Last{n}") for n in range(1, 5)]
    lake = write_lake(
        tmp_path / "lake", clients, members, [(m["member_id"], CLARITIN_NDC, FILL, "paid") for m in members]
    )
    decisions = {"C2": {"account_team": "decline"}, "C3": {"client": "none"}}
    result = run_campaign(
        load_event(EVENT),
        lake,
        tmp_path / "out",
        decisions=decisions,
        timeout=600,
        time_scale=SCALE,
        faults={name: _slow for name in FUNCTION_NAMES},
    )
    assert result.status == "SUCCEEDED", (result.error, result.function_errors)
    assert result.report is not None
    assert result.watcher_errors == []
    outcomes = {
        row["client_id"]: (row["account_team_decision"], row["client_decision"], row["letters"])
        for row in result.report["clients"]
    }
    assert outcomes == {
        "C1": ("approved", "approved", 1),
        "C2": ("declined", "not_asked", 0),
        "C3": ("approved", "no_response", 0),
        "C4": ("approved", "approved", 1),
    }
    asked_c3 = sorted(
        path.read_text().split("X-Coach-Request: ")[1].split()[0]
        for path in (tmp_path / "out" / "outbox").glob("*.eml")
        if "X-Coach-Client: C3" in path.read_text() and "X-Coach-Role: client" in path.read_text()
    )
    assert {"ask", "reminder", "escalation"} <= set(asked_c3)  # silence still reminds and escalates
    # and the run left none of its own threads behind (the approver's team, the status writer, the approval pages)
    ours = ("approver", "coach-status", "approval-server", "coach-progress")
    assert [t.name for t in threading.enumerate() if t.name.startswith(ours)] == []
