"""Faults injected into every Lambda task of the real state machine (issue 6, item 1).

Transient: the first invocation of one function for one campaign fails with an error name AWS reports for a
transient fault (Lambda's own service errors; SES or Athena throttling as the handler surfaces it). The state
machine's Retry must absorb it: the campaign ends with the same report as a clean run, and no email is sent twice.

Permanent: every invocation of one function for one campaign fails with an error nothing retries. The execution
fails, exactly one operator alert names the stage (and no member), and nothing of that stage or a later one went
out: no letters, no member emails, no report.

Every scenario is its own campaign (its own event_id); all of them run at once in ONE local runtime, and each fault
only fires for the campaign it was planned for. That keeps the whole matrix to one runtime start (the runtime costs
more to start than a tiny campaign costs to run) and, on the way, shows faults in one campaign leave the others
alone.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from coach.adapters.mail import as_raised
from coach.approvals.notices import STAGES

from coach_local.runtime import ASL_PATH, render_definition, substitutions
from tests.workflow.test_concurrent_campaigns import (
    CampaignResult,
    Sent,
    Together,
    market_event,
    run_together,
)
from tests.workflow.tiny_lake import CLARITIN_NDC, client, member, write_lake

pytestmark = pytest.mark.slow

LAMBDA_TRANSIENT = ("Lambda.ServiceException", "Lambda.TooManyRequestsException")
# When the AWS service a handler calls throttles past botocore's own retries, Lambda reports the exception's class
# name. Athena models TooManyRequestsException (botocore raises a class of that name: the audience stage). SES v1
# models no throttling error: Throttling / ThrottlingException are the names the ASL retries for the stages that send
# email, which the SES adapter raises for SES's throttling codes (coach.adapters.mail.as_raised; see SES_AS_RAISED).
SERVICE_TRANSIENT = {
    "audience": ("TooManyRequestsException",),
    "notify": ("Throttling", "ThrottlingException"),
    "approval_request": ("Throttling", "ThrottlingException"),
    "letters": ("Throttling", "ThrottlingException"),
    "client_outcome": (),
    "summary": (),
}
TASK_FUNCTIONS = tuple(SERVICE_TRANSIENT)
# The order the stages run in (notify and approval_request are alternatives: mandatory notices or approvals).
STAGE_ORDER = {
    "audience": 0,
    "notify": 1,
    "approval_request": 1,
    "letters": 2,
    "client_outcome": 3,
    "summary": 4,
}
EMAIL_STAGE = {"notice": "notify", "approval": "approval_request", "letter": "letters"}
# A day is 100 s: 29 campaigns share one process on a loaded CI machine, and an approval clicked after the reminder
# time would make the report differ for a reason that is not the fault (seen at 10 s a day). Nothing here waits for
# a deadline, so a slower clock costs no time.
TIME_SCALE = 1 / 864
CANARIES = ("Lovelace", "Turing", "Hopper", "alan@mail.example", "Main St")


# --- the state machine, read from the definition ----------------------------------------------------------------
def _definition() -> dict:
    return json.loads(render_definition(ASL_PATH.read_text(encoding="utf-8"), substitutions()))


def _states(states: dict) -> list[tuple[str, dict]]:
    found = []
    for name, state in states.items():
        found.append((name, state))
        if "ItemProcessor" in state:
            found += _states(state["ItemProcessor"]["States"])
    return found


def _function(state: dict) -> str | None:
    if not str(state.get("Resource", "")).startswith("arn:aws:states:::lambda:invoke"):
        return None
    arn = state["Parameters"]["FunctionName"]
    return str(re.sub(r"^.*:function:coach-", "", arn))


def lambda_tasks() -> dict[str, list[dict]]:
    """function → its task states, across the whole definition (Distributed Map children included)."""
    tasks: dict[str, list[dict]] = {}
    for _, state in _states(_definition()["States"]):
        if (name := _function(state)) is not None:
            tasks.setdefault(name, []).append(state)
    return tasks


def alert_stage(function: str) -> str:
    """The stage an operator alert names when `function` fails: that of the top-level state it runs under."""
    for name, state in _definition()["States"].items():
        if function in {_function(s) for _, s in _states({name: state})}:
            return STAGES[name]
    raise LookupError(function)


# --- the matrix -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Scenario:
    function: str
    error: str | None  # None: permanent (a RuntimeError, which nothing retries)

    @property
    def permanent(self) -> bool:
        return self.error is None

    @property
    def event_id(self) -> str:
        what = (
            "permanent" if self.permanent else re.sub(r"[^A-Za-z]+", "-", str(self.error)).strip("-").lower()
        )
        return f"fault-{self.function.replace('_', '-')}-{what}"

    @property
    def baseline(self) -> str:
        return (
            "clean-recall" if self.function == "notify" else "clean-otc"
        )  # notices go out for class I recalls

    def __str__(self) -> str:
        return f"{self.function}-{self.error or 'permanent'}"


TRANSIENT = [Scenario(f, e) for f in TASK_FUNCTIONS for e in LAMBDA_TRANSIENT + SERVICE_TRANSIENT[f]]
PERMANENT = [Scenario(f, None) for f in TASK_FUNCTIONS]
# SES throttling past botocore's own retries, raised the way SesMailer raises it: botocore's ClientError (SES v1 models
# no Throttling error class) translated by coach.adapters.mail.as_raised to an error named Throttling.
SES_AS_RAISED = Scenario("letters", "ClientError")


def event_for(event_id: str, baseline: str) -> dict:
    if baseline == "clean-recall":
        return market_event(event_id, "recall", "Claritin", ndcs=[CLARITIN_NDC], recall_class="I")
    return market_event(event_id, "otc_switch", "Claritin", ndcs=[CLARITIN_NDC])


def _campaign_of(event: dict) -> str | None:
    """Campaign-scoped invocations name their campaign; an EventBridge status change (the alert) does not."""
    for holder in (event, event.get("batch")):
        if isinstance(holder, dict) and isinstance(holder.get("campaign_id"), str):
            return str(holder["campaign_id"])
    return None


class Injector:
    """FunctionRegistry.faults for the whole matrix: each fault fires only for the campaign it was planned for."""

    def __init__(self) -> None:
        self.plans: dict[tuple[str, str], Scenario] = {}
        self.calls: Counter[tuple[str, str]] = Counter()
        self.raised: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    def plan(self, campaign_id: str, scenario: Scenario) -> None:
        self.plans[(scenario.function, campaign_id)] = scenario

    def faults(self) -> dict[str, Callable[[dict], None]]:
        return {name: (lambda event, name=name: self._maybe_fail(name, event)) for name in TASK_FUNCTIONS}

    def _maybe_fail(self, function: str, event: dict) -> None:
        key = (function, _campaign_of(event) or "")
        scenario = self.plans.get(key)
        with self._lock:
            self.calls[key] += 1
            first = self.calls[key] == 1
            if scenario is None or not (scenario.permanent or first):
                return
            self.raised[key] += 1
        if scenario.permanent:
            raise RuntimeError(f"simulated: {function} is broken")
        if scenario.error == "ClientError":
            raise as_raised(
                ClientError(
                    {"Error": {"Code": "Throttling", "Message": "Maximum sending rate exceeded."}},
                    "SendRawEmail",
                )
            )
        raise type("InjectedFault", (Exception,), {"error_type": scenario.error})(
            "simulated: try again later"
        )


@dataclass
class Matrix:
    together: Together
    injector: Injector

    def result(self, event_id: str) -> CampaignResult:
        return self.together.results[event_id]


def run_matrix(base: Path, scenarios: list[Scenario], *, redrive_after_fix: bool = False) -> Matrix:
    """The two clean campaigns and one campaign per scenario, each fault planned for its own campaign, all at once."""
    lake = write_lake(
        base / "lake",
        [client("C1", "One", {"otc_switch": "always"}), client("C2", "Two")],
        [
            member("M1", "C1", "Ada", "Lovelace"),
            member(
                "M2",
                "C2",
                "Alan",
                "Turing",
                email="alan@mail.example",
                email_consent=True,
                preferred_channel="email",
            ),
            member("M3", "C2", "Grace", "Hopper"),
        ],
        [(m, CLARITIN_NDC, date(2002, month, 1), "paid") for m, month in (("M1", 10), ("M2", 9), ("M3", 8))],
    )
    from coach.intake import campaign_id_for

    injector = Injector()
    events = [event_for("clean-otc", "clean-otc"), event_for("clean-recall", "clean-recall")]
    for scenario in scenarios:
        injector.plan(campaign_id_for(scenario.event_id), scenario)
        events.append(event_for(scenario.event_id, scenario.baseline))
    together = run_together(
        lake,
        base / "out",
        events,
        faults=injector.faults(),
        timeout=300,
        time_scale=TIME_SCALE,
        fix_then_redrive=injector.plans.clear if redrive_after_fix else None,
    )
    assert together.watcher_errors == []
    return Matrix(together, injector)


@pytest.fixture(scope="module")
def matrix(tmp_path_factory) -> Matrix:
    return run_matrix(tmp_path_factory.mktemp("faults"), [*TRANSIENT, *PERMANENT, SES_AS_RAISED])


# --- what is compared -----------------------------------------------------------------------------------------
def comparable(report: dict) -> dict:
    """The report without what differs between two campaigns of the same event: ids and clock times."""
    return {
        "event_type": report["event_type"],
        "drug": report["drug"],
        "status": report["status"],
        "clients": report["clients"],
        "totals": report["totals"],
        "approvals": [
            {k: row[k] for k in ("client_id", "role", "reminders", "escalations", "decision")}
            for row in report["approvals"]
        ],
    }


def identity(sent: Sent) -> tuple:
    """An email as its recipient sees it, without the campaign id (a link id differs in every email anyway)."""
    headers = tuple(sorted((k, v) for k, v in sent.headers.items() if k != "X-Coach-Campaign"))
    return sent.kind, sent.to, sent.subject, headers


def letter_files(result: CampaignResult) -> set[str]:
    return {key.replace(result.campaign_id, "<campaign>") for key in result.letters}


def test_the_matrix_covers_every_lambda_task_of_the_state_machine():
    assert set(lambda_tasks()) == set(TASK_FUNCTIONS)


@pytest.mark.parametrize("function", TASK_FUNCTIONS)
def test_every_task_retries_its_transient_errors_with_backoff_and_nothing_else(function):
    for state in lambda_tasks()[function]:
        retried = [name for retrier in state["Retry"] for name in retrier["ErrorEquals"]]
        assert set(LAMBDA_TRANSIENT + SERVICE_TRANSIENT[function]) <= set(retried)
        assert len(retried) == len(set(retried)), "an error name in two retriers: only the first one applies"
        assert not {"States.ALL", "States.TaskFailed", "RuntimeError"} & set(retried), (
            "a permanent error is retried"
        )
        for retrier in state["Retry"]:
            assert (
                retrier["IntervalSeconds"] >= 1
                and retrier["BackoffRate"] >= 1.5
                and retrier["MaxAttempts"] >= 3
            )
            assert retrier.get("JitterStrategy") == "FULL"


def test_the_clean_runs_are_the_expected_ones(matrix):
    otc, recall = matrix.result("clean-otc"), matrix.result("clean-recall")
    assert (otc.status, recall.status) == ("SUCCEEDED", "SUCCEEDED"), (otc.error, recall.error)
    for result in (otc, recall):
        assert result.report is not None and result.report["totals"] == {
            "affected": 3,
            "reachable": 3,
            "letters": 3,
            "mailed": 2,
            "emailed": 1,
        }
    assert Counter(s.kind for s in otc.sent) == {
        "approval": 5,
        "letter": 1,
    }  # C1 team+lead; C2 team+lead, client
    assert Counter(s.kind for s in recall.sent) == {
        "notice": 6,
        "letter": 1,
    }  # team+lead and client, each client
    assert matrix.injector.raised[("summary", otc.campaign_id)] == 0


@pytest.mark.parametrize("scenario", TRANSIENT, ids=str)
def test_a_transient_fault_is_retried_and_changes_nothing(matrix, scenario):
    result, clean = matrix.result(scenario.event_id), matrix.result(scenario.baseline)
    key = (scenario.function, result.campaign_id)
    assert matrix.injector.raised[key] == 1 and matrix.injector.calls[key] >= 2, "the fault did not fire"
    assert result.status == "SUCCEEDED", result.error
    assert result.report is not None and clean.report is not None
    assert comparable(result.report) == comparable(clean.report)
    sent = Counter(identity(s) for s in result.sent)
    assert max(sent.values()) == 1, f"sent twice: {[k for k, n in sent.items() if n > 1]}"
    assert sent == Counter(identity(s) for s in clean.sent)
    assert len(result.outbox) == len(result.sent)  # one .eml per SES send: no send under a reused key either
    assert letter_files(result) == letter_files(clean)


@pytest.mark.parametrize("scenario", PERMANENT, ids=str)
def test_a_permanent_fault_fails_the_campaign_alerts_once_and_sends_nothing_further(matrix, scenario):
    result, clean = matrix.result(scenario.event_id), matrix.result(scenario.baseline)
    assert matrix.injector.raised[(scenario.function, result.campaign_id)] >= 1, "the fault did not fire"
    assert result.status == "FAILED"
    assert result.report is None, "a report for a campaign that failed"
    alerts = [s for s in result.sent if s.kind == "operator_alert"]
    assert len(alerts) == 1, [s.subject for s in alerts]
    alert = alerts[0]
    assert alert.to == ("operations@pbm.example",)
    stage = alert_stage(scenario.function)
    assert f"at stage {stage}" in alert.subject and f"at the {stage} stage" in alert.text
    for canary in CANARIES:
        assert canary not in alert.subject and canary not in alert.text
    assert sum(1 for path in result.outbox if "operator_alert" in path.read_text(errors="replace")) == 1
    failed_at = STAGE_ORDER[scenario.function]
    others = [s for s in result.sent if s.kind != "operator_alert"]
    assert [s.kind for s in others if STAGE_ORDER[EMAIL_STAGE[s.kind]] >= failed_at] == [], (
        "sent after the fault"
    )
    sent = Counter(identity(s) for s in others)
    assert not sent or max(sent.values()) == 1
    assert set(sent) <= {identity(s) for s in clean.sent}
    if failed_at <= STAGE_ORDER["letters"]:
        assert result.letters == [], "letters of a campaign that failed before (or at) its letters"
    else:
        assert letter_files(result) <= letter_files(clean)


def test_ses_throttling_as_the_mail_adapter_raises_it_is_retried(matrix):
    result = matrix.result(SES_AS_RAISED.event_id)
    assert matrix.injector.raised[(SES_AS_RAISED.function, result.campaign_id)] == 1
    assert result.status == "SUCCEEDED", result.error


def test_faults_in_other_campaigns_left_the_clean_ones_alone(matrix):
    for result in matrix.together.results.values():
        assert all(s.campaign == result.campaign_id for s in result.sent)
    planned = {campaign for _, campaign in matrix.injector.plans}
    for event_id in ("clean-otc", "clean-recall"):
        campaign = matrix.result(event_id).campaign_id
        assert campaign not in planned and not any(
            matrix.injector.raised[(f, campaign)] for f in TASK_FUNCTIONS
        )


# --- a permanent fault at every task, fixed, then the failed campaigns redriven -------------------------------------
@pytest.fixture(scope="module")
def redriven(tmp_path_factory) -> Matrix:
    """Each task fails for good in its own campaign; once all have failed the faults are removed (the operator fixed
    the cause) and every failed campaign is redriven, all at once, beside two clean campaigns run alongside."""
    return run_matrix(tmp_path_factory.mktemp("redrive-faults"), PERMANENT, redrive_after_fix=True)


@pytest.mark.parametrize("scenario", PERMANENT, ids=str)
def test_after_the_fix_a_redrive_finishes_the_campaign_with_nothing_sent_twice(redriven, scenario):
    result, clean = redriven.result(scenario.event_id), redriven.result(scenario.baseline)
    assert redriven.injector.raised[(scenario.function, result.campaign_id)] >= 1, "the fault did not fire"
    assert (result.first_status, result.status) == ("FAILED", "SUCCEEDED"), result.error
    # the campaign as it would have been without the fault: the same report, emails and letters, each once
    assert result.report is not None and clean.report is not None
    assert comparable(result.report) == comparable(clean.report)
    alerts = [s for s in result.sent if s.kind == "operator_alert"]
    assert len(alerts) == 1  # for the failure; the redrive that succeeded alerts nobody
    sent = Counter(identity(s) for s in result.sent if s.kind != "operator_alert")
    assert max(sent.values()) == 1, f"sent twice: {[k for k, n in sent.items() if n > 1]}"
    assert sent == Counter(identity(s) for s in clean.sent)
    assert len(result.outbox) == len(result.sent)
    assert letter_files(result) == letter_files(clean)
