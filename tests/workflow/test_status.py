"""`coach status` shows, from another terminal, each local campaign's state and whose decision it waits for."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import pytest

from coach_local.approver import answer
from coach_local.inputs import load_event
from coach_local.runner import run_campaign
from tests.workflow.tiny_lake import CLARITIN_NDC, client, member, write_lake

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
COACH = [sys.executable, "-m", "coach_local.cli"]


def wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out waiting")


def status(out: Path) -> dict:
    completed = subprocess.run(
        [*COACH, "status", "--out", str(out), "--json"], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def test_status_names_the_decision_a_running_campaign_waits_for(tmp_path):
    lake = write_lake(
        tmp_path / "lake",
        [client("C1", "Status Health Plan")],
        [member("MBR00001", "C1", "Grace", "Hopper")],
        [("MBR00001", CLARITIN_NDC, date(2002, 10, 15), "paid")],
    )
    out = tmp_path / "out"
    links: list = []
    result: dict = {}
    thread = threading.Thread(
        target=lambda: result.setdefault(
            "run",
            run_campaign(
                load_event(ROOT / "coach_local/events/claritin_otc.json"),
                lake,
                out,
                interactive=True,
                on_link=links.append,
                time_scale=1 / 600,
                timeout=240,
            ),
        ),
        daemon=True,
    )
    thread.start()
    team = wait_for(lambda: next((l for l in links if l.role == "account_team"), None))

    def waiting():
        state = status(out)
        campaigns = state["campaigns"]
        return state if campaigns and campaigns[0]["waiting_for"] else None

    state = wait_for(waiting)
    assert state["live"] is True
    campaign = state["campaigns"][0]
    assert campaign["state"] == "RUNNING" and campaign["campaign_id"] == team.campaign_id
    [question] = campaign["waiting_for"]
    assert (question["client_id"], question["client_name"], question["role"], question["kind"]) == (
        "C1",
        "Status Health Plan",
        "account_team",
        "ask",
    )
    assert question["since"] < question["deadline"]
    table = subprocess.run([*COACH, "status", "--out", str(out)], capture_output=True, text=True, cwd=ROOT)
    assert "account team of C1" in table.stdout and "running now" in table.stdout
    assert team.campaign_id in table.stdout  # whole: it is what `coach audit` and `coach redrive` take
    assert "Hopper" not in json.dumps(state) + table.stdout

    assert answer(team.link, "approve") == 200
    client_link = wait_for(lambda: next((l for l in links if l.role == "client"), None))
    assert wait_for(
        lambda: (
            (s := status(out))["campaigns"][0]["waiting_for"]
            and s["campaigns"][0]["waiting_for"][0]["role"] == "client"
        )
    )
    assert answer(client_link.link, "approve") == 200
    thread.join(timeout=120)
    assert result["run"].status == "SUCCEEDED"
    final = status(out)
    assert final["live"] is False and final["campaigns"][0]["state"] == "SUCCEEDED"
    assert final["campaigns"][0]["waiting_for"] == []


def test_status_without_a_run_is_a_clear_input_error(tmp_path):
    completed = subprocess.run(
        [*COACH, "status", "--out", str(tmp_path)], capture_output=True, text=True, cwd=ROOT
    )
    assert completed.returncode == 2 and "status.json" in completed.stderr
