"""Function workers (coach_local/runtime/function_workers.py): the busy functions' handlers run in a worker process
and their AWS calls come back to the runtime's moto. A campaign run that way is the campaign run in one process;
a handler's error keeps its type (what the ASL's Retry and Catch match); a worker that dies fails its invocations
instead of leaving the workflow waiting; the handlers' log lines still reach OUT/logs/functions.log."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from coach_local.dispatch import FakeLambdaContext, FunctionRegistry, error_payload
from coach_local.inputs import load_event
from coach_local.runner import run_campaign
from coach_local.runtime.function_workers import REMOTE_FUNCTIONS, FunctionWorkers, RemoteFunctionError
from tests.workflow.test_campaign_paths import CLIENTS, DECISIONS, EVENT, FILLS, MEMBERS
from tests.workflow.tiny_lake import write_lake

pytestmark = pytest.mark.slow

# Every path of a client's branch (tests/workflow/test_campaign_paths.py): always, ask, never, a team that declines,
# a silent client, a silent team (reminder, escalation, no response), with digests for the shared account teams.


def outcome(result) -> dict:
    report = result.report
    return {
        "status": report["status"],
        "totals": report["totals"],
        "clients": sorted(
            (
                row["client_id"],
                row["account_team_decision"],
                row["client_decision"],
                row["affected"],
                row["reachable"],
                row["letters"],
                row["emailed"],
                row["mailed"],
            )
            for row in report["clients"]
        ),
    }


def kinds_of_email(out: Path) -> list[tuple[str, str, str]]:
    """(kind, request, client) of every email but the asks: the same reminders, escalations, letters and notices in
    both runs. (How many asks are emailed depends on timing in any run: an ask whose question a teammate has
    already answered is dropped from the digest queue before it is emailed.)"""
    import email
    import email.policy

    found = []
    for path in (out / "outbox").glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        found.append(
            (
                str(message.get("X-Coach-Kind", "")),
                str(message.get("X-Coach-Request", "")),
                str(message.get("X-Coach-Client", "")),
            )
        )
    return sorted(f for f in found if f[:2] != ("approval", "ask"))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("workers")
    lake = write_lake(base / "lake", CLIENTS, MEMBERS, FILLS)
    results = {}
    for processes in (0, 1):
        results[processes] = run_campaign(
            load_event(EVENT),
            lake,
            base / f"out-{processes}",
            decisions=DECISIONS,
            timeout=300,
            time_scale=1 / 86_400,
            function_processes=processes,
        )
    return results


def test_a_campaign_run_by_a_function_worker_is_the_campaign_run_in_one_process(runs):
    here, worker = runs[0], runs[1]
    assert here.status == worker.status == "SUCCEEDED", (here.error, worker.error)
    assert outcome(worker) == outcome(here)
    assert kinds_of_email(worker.out_dir) == kinds_of_email(here.out_dir)
    # the letters themselves: the same members, channels and languages in the manifests
    manifests = [
        sorted(
            line
            for path in (result.out_dir / "letters").glob("*/manifest.csv")
            for line in path.read_text().splitlines()[1:]
        )
        for result in (here, worker)
    ]
    assert manifests[0] and len(manifests[0]) == len(manifests[1])


def test_the_busy_functions_ran_in_the_worker_and_only_there(runs):
    stages = {s["function"]: s for s in runs[1].report["local_run"]["stages"]}
    assert runs[1].report["local_run"]["function_processes"] == 1
    for function, stage in stages.items():
        expected = stage["invocations"] if function in REMOTE_FUNCTIONS else 0
        assert stage["in_worker"] == expected, function
    assert stages["approval_request"]["in_worker"] > 0 and stages["letters"]["in_worker"] > 0
    assert stages["audience"]["in_worker"] == 0  # it runs here while the worker starts
    assert all(s["in_worker"] == 0 for s in runs[0].report["local_run"]["stages"])
    memory = runs[1].report["local_run"]["peak_memory_mib"]  # the worker's own peak, as it reported it
    assert len(memory["workers"]) == 1 and 50 < memory["workers"][0] < memory["total"]
    assert runs[0].report["local_run"]["peak_memory_mib"]["workers"] == []


def test_the_workers_log_lines_reach_the_functions_log(runs):
    lines = [
        json.loads(line) for line in (runs[1].out_dir / "logs" / "functions.log").read_text().splitlines()
    ]
    messages = {line["message"] for line in lines if isinstance(line.get("message"), str)}
    assert {"letters batch", "client outcome", "campaign summary"} <= messages  # logged in the worker
    assert "audience" in messages  # logged here
    names = [n for m in MEMBERS for n in (m["first_name"], m["last_name"], m["address_line1"])]
    text = (runs[1].out_dir / "logs" / "functions.log").read_text()
    assert not [n for n in names if n in text]


# which function logs each message (functions/<name>/handler.py)
LOGGED_BY = {
    "letters batch": "coach-letters",
    "client outcome": "coach-client_outcome",
    "campaign summary": "coach-summary",
    "audience": "coach-audience",
    "intake": "coach-intake",
    "digests": "coach-approval_digest",
}


@pytest.mark.parametrize("processes", [0, 1])
def test_each_log_line_names_the_function_that_logged_it(runs, processes):
    """Many invocations run at once locally; a line names its own function, not the one that started last."""
    lines = [
        json.loads(line)
        for line in (runs[processes].out_dir / "logs" / "functions.log").read_text().splitlines()
    ]
    checked = [line for line in lines if line.get("message") in LOGGED_BY]
    assert len(checked) >= 10
    wrong = [
        (line["message"], line.get("function_name"))
        for line in checked
        if line.get("function_name") != LOGGED_BY[line["message"]]
    ]
    assert not wrong
    assert len({line["function_request_id"] for line in checked}) > 5  # each invocation its own request id


@pytest.fixture
def workers():
    scheduled: list[tuple[str, float, str]] = []
    pool = FunctionWorkers(1, lambda *call: scheduled.append(call))
    pool.start()
    pool.set_environment(dict(os.environ))
    try:
        yield pool
    finally:
        pool.stop()


def test_a_handlers_error_in_a_worker_keeps_its_type_and_message(workers):
    event = {"batch": {"campaign_id": "c"}}  # not a letters batch: the handler's model refuses it
    with pytest.raises(Exception) as here:
        FunctionRegistry().handler("letters")(event, FakeLambdaContext(function_name="coach-letters"))
    with pytest.raises(RemoteFunctionError) as there:
        workers.invoke("letters", event)
    assert there.value.error_type == type(here.value).__name__ == "ValidationError"
    assert str(there.value) == str(here.value)[:1000]  # as error_payload keeps it
    # what the runtime returns to Step Functions for it: Lambda's error payload with that errorType
    assert error_payload(there.value)["errorType"] == "ValidationError"


def test_a_worker_that_dies_fails_its_invocations_instead_of_hanging(workers):
    worker = workers._workers[0]
    assert worker.ready.wait(60) and not worker.dead
    os.kill(worker.process.pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while (
        worker.dead is None and time.monotonic() < deadline
    ):  # the runtime learns of it as the socket closes
        time.sleep(0.05)
    with pytest.raises(RemoteFunctionError) as failed:
        workers.invoke("letters", {"batch": {}})
    assert failed.value.error_type == "Runtime.ExitError"
    assert "function worker 0 exited" in str(failed.value)


def test_unpublished_metrics_never_reach_stdout(monkeypatch, capsys):
    """Locally no metric is published (POWERTOOLS_METRICS_DISABLED); Powertools still printed a metric's EMF to
    stdout once it held 100 values, which put CloudWatch lines into `coach run --json` in a hundred-client run.
    Each invocation's metrics are now dropped at its end, wherever it ran."""
    from coach.observability import metrics

    from coach_local.dispatch import forget_unpublished_metrics

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    metrics.clear_metrics()

    def deciding_handler(event, context):  # one invocation's worth of metrics, as a handler adds them
        for _ in range(60):
            metrics.add_metric(name="DecisionsApproved", unit="Count", value=1)
        return {}

    registry = FunctionRegistry()
    monkeypatch.setattr(registry, "handler", lambda name: deciding_handler)
    for _ in range(3):  # three invocations in the runtime's process: 180 values of one metric
        registry.invoke("approval_api", {})
    for _ in range(60):  # and what a worker does at the end of each of its invocations
        metrics.add_metric(name="DecisionsApproved", unit="Count", value=1)
    forget_unpublished_metrics()
    assert "_aws" not in capsys.readouterr().out
    assert not metrics.metric_set


def test_a_worker_whose_runtime_is_gone_exits_instead_of_lingering(workers):
    """A runtime that dies without stopping its worker (killed, crashed) leaves no process behind."""
    worker = workers._workers[0]
    assert worker.ready.wait(60) and not worker.dead
    import socket

    # what the runtime's death does to the socket (closing it here would wait for the reading thread)
    socket.socket(fileno=os.dup(worker.wire.connection.fileno())).shutdown(socket.SHUT_RDWR)
    assert worker.process.wait(timeout=30) == 0
