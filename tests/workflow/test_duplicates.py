"""At-least-once delivery absorbed: the same event 100 times at once starts one campaign; the same approval POST
20 times at once records one decision and calls the workflow back once."""

from __future__ import annotations

import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest

from coach_local.inputs import load_event
from coach_local.runtime import LocalRuntime
from tests.workflow.tiny_lake import CLARITIN_NDC, client, member, write_lake

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def runtime(tmp_path_factory):
    base = tmp_path_factory.mktemp("dupes")
    lake = write_lake(
        base / "lake",
        [client("C1", "One")],
        [member("M1", "C1", "Ada", "Lovelace")],
        [("M1", CLARITIN_NDC, date(2002, 10, 1), "paid")],
    )
    # a playbook day lasts ~2.4 minutes here: no link may expire while the machine is busy
    with LocalRuntime(base / "out", lake, time_scale=1 / 600) as rt:
        yield rt


def test_the_same_event_delivered_100_times_at_once_starts_one_campaign(runtime):
    event = load_event(ROOT / "coach_local/events/claritin_otc.json")
    barrier = threading.Barrier(20)

    def deliver(_):
        barrier.wait() if _ < 20 else None
        return runtime.put_event(json.loads(json.dumps(event)))["status"]

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(deliver, range(100)))
    # StartExecution with the same name and input while the execution runs returns that execution (AWS and moto)
    assert set(statuses) <= {"started", "duplicate"}
    executions = runtime.client("stepfunctions").list_executions(stateMachineArn=runtime.state_machine_arn)
    assert len(executions["executions"]) == 1


def test_the_same_approval_post_20_times_at_once_records_one_decision(runtime, monkeypatch):
    outbox = runtime.out_dir / "outbox"
    deadline = time.monotonic() + 30
    while not list(outbox.glob("approval_*C1_account_team_0_*.eml")) and time.monotonic() < deadline:
        time.sleep(0.1)
    eml = sorted(outbox.glob("approval_*C1_account_team_0_*.eml"))[0].read_text()
    link_match = re.search(r"http://127\.0\.0\.1:\d+/a/[A-Za-z0-9_-]+", eml)
    assert link_match is not None
    link = link_match.group(0)
    sent = []
    original = runtime.registry.handler("approval_api")
    from coach import runtime as coach_runtime

    callbacks = coach_runtime.callbacks()
    real_succeed = callbacks.succeed

    def counted_succeed(token, output):
        sent.append(token)
        real_succeed(token, output)

    monkeypatch.setattr(callbacks, "succeed", counted_succeed)
    import urllib.parse
    import urllib.request

    page = urllib.request.urlopen(link, timeout=30).read().decode()
    token_match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token_match is not None
    token = token_match.group(1)
    form = urllib.parse.urlencode({"csrf_token": token, "decision": "approve"}).encode()

    def post(_):
        request = urllib.request.Request(
            link, data=form, method="POST", headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(post, range(20)))
    assert original is runtime.registry.handler("approval_api")
    assert set(statuses) == {200} and len(sent) == 1
    from coach.approvals.trail import audit_trail

    trail = audit_trail(_campaign_id(runtime), store=coach_runtime.approval_store())
    assert [a.action for a in trail] == ["approved"]


def _campaign_id(runtime) -> str:
    from coach.intake import campaign_id_for

    return campaign_id_for(load_event(ROOT / "coach_local/events/claritin_otc.json")["detail"]["event_id"])
