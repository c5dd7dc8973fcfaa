"""Faults injected into every task of the real state machine (issue 6, item 1).

The matrix is by *task* (ASL Task state), not by Lambda function: InformAccountTeam and InformClient share the notify
function, AskAccountTeam and AskClient the approval_request function, and each of them gets its own faults. How an
invocation is told to belong to one task: tests/workflow/fault_injection.py.

Transient: the first invocation of one task for one campaign fails with an error name AWS reports for a transient
fault (Lambda's own service errors; SES or Athena throttling as the handler surfaces it). The state machine's Retry
must absorb it: the campaign ends with the same report as a clean run, and no email is sent twice. Besides faults
raised before the handler, some are raised in the middle of the handler's work: SES throttles a send after the
invocation already sent an email (notices, letters), and Athena throttles the audience after the first client's
files were written. The retry must finish the work without sending anything twice.

Permanent: every invocation of one task for one campaign fails with an error nothing retries. The execution fails,
exactly one operator alert names the stage (and no member), and for the clients the fault hit nothing of that task
or a later one went out (what came before it did). After the fault is fixed, a redrive finishes the campaign with
the clean run's report, emails and letters, each once.

A feed's candidate waits for a clinical pharmacist first (AskClinicalReviewer); a dismissed one ends at CloseReview.
Their faults run on two more clean baselines, a candidate confirmed (the whole OTC campaign follows) and one
dismissed, answered by the local pharmacist (coach_local/reviewer.py), each campaign as its baseline says.

Every scenario is its own campaign (its own event_id); all of them run at once in ONE local runtime, and each fault
only fires for the campaign it was planned for. That keeps the whole matrix to one runtime start (the runtime costs
more to start than a tiny campaign costs to run) and, on the way, shows faults in one campaign leave the others
alone.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date
from itertools import combinations
from pathlib import Path

import pytest
from coach.catalog import FUNCTION_NAMES
from coach.notices import stage_of

from coach_local.inputs import ReviewChoice
from coach_local.runtime import digests
from tests.workflow.fault_injection import Fault, Injector, lambda_tasks, task_states
from tests.workflow.test_concurrent_campaigns import (
    CampaignResult,
    Sent,
    Together,
    market_event,
    run_together,
)
from tests.workflow.tiny_lake import CLARITIN_NDC, client, member, prescriber, write_lake

pytestmark = pytest.mark.slow

LAMBDA_TRANSIENT = ("Lambda.ServiceException", "Lambda.TooManyRequestsException")
# When the AWS service a handler calls throttles past botocore's own retries, Lambda reports the exception's class
# name. Athena models TooManyRequestsException (botocore raises a class of that name: the audience task). SES v1
# models no throttling error: Throttling / ThrottlingException are the names the ASL retries for the tasks that send
# email, which the SES adapter raises for SES's throttling codes (coach.adapters.mail.as_raised; see MID_SEND).
SERVICE_TRANSIENT = {
    "AskClinicalReviewer": ("Throttling", "ThrottlingException"),  # the review email (SES)
    "CloseReview": (),
    "FindAudience": ("TooManyRequestsException",),
    "InformAccountTeam": ("Throttling", "ThrottlingException"),
    "InformClient": ("Throttling", "ThrottlingException"),
    "AskAccountTeam": ("Throttling", "ThrottlingException"),
    "AskClient": ("Throttling", "ThrottlingException"),
    "GenerateLetters": ("Throttling", "ThrottlingException"),
    "RecordOutcome": (),
    "Prescribers": ("TooManyRequestsException",),  # the prescriber query on Athena
    "GenerateNotices": (),
    "MeasureOutcomes": ("Throttling", "ThrottlingException", "TooManyRequestsException"),  # SES and Athena
    "Summary": (),
}
TASKS = tuple(SERVICE_TRANSIENT)
CLIENT_BRANCH = (
    "InformAccountTeam",
    "AskAccountTeam",
    "InformClient",
    "AskClient",
    "GenerateLetters",
    "RecordOutcome",
)
# The order tasks run in on one client's path (mandatory notices and approvals are alternatives, and so are the
# audience and the close of a review that stopped the campaign).
TASK_ORDER = {
    "AskClinicalReviewer": 0,  # a feed's candidate only: before anything else
    "FindAudience": 1,
    "CloseReview": 1,  # instead of the audience, when the review was dismissed or unanswered: it ends the run
    "InformAccountTeam": 2,
    "AskAccountTeam": 2,
    "InformClient": 3,
    "AskClient": 3,
    "GenerateLetters": 4,
    "RecordOutcome": 5,
    "Prescribers": 6,
    "GenerateNotices": 7,
    "MeasureOutcomes": 8,  # after every client's branch, once the follow-up has passed (docs/outcomes.md)
    "Summary": 9,
}
# What the operator alert names as the stage when the task fails for good (coach.notices.STAGES): the
# innermost state of the path the execution failed along, through the failed child executions of the Distributed
# Maps (ForEachClient, Letters), so each task of a client branch has its own words, with the innermost failure's
# error name (RuntimeError here) rather than the Map's.
ALERT_STAGE = {
    "AskClinicalReviewer": "clinical review: asking the pharmacist",
    "CloseReview": "clinical review: closed (dismissed or unanswered)",
    "FindAudience": "audience",
    "InformAccountTeam": "client branch: notice to the account team",
    "InformClient": "client branch: notice to the client",
    "AskAccountTeam": "client branch: account team approval",
    "AskClient": "client branch: client approval",
    "GenerateLetters": "client branch: letters",
    "RecordOutcome": "client branch: outcome (manifest merge)",
    "Prescribers": "prescribers: notices planned",
    "GenerateNotices": "prescriber notices: a batch",
    "MeasureOutcomes": "outcomes (lettered against held out)",
    "Summary": "summary",
}
# What the alert says in the local runtime today, where that descent stops at the top level: moto cannot list a map
# run's child executions (ListExecutions by mapRunArn reads only stateMachineArn), so the notify function logs "could
# not look inside the failed map run" and names the outer stage and the Map's error, as it did before. Every task of a
# client branch then gets the same words: an InformClient failure reads like a GenerateLetters one.
FOR_EACH_CLIENT = ("clients (approvals, letters, outcomes)", "States.ExceedToleratedFailureThreshold")
ALERT_SAYS_LOCALLY = {
    "AskClinicalReviewer": ("clinical review: asking the pharmacist", "RuntimeError"),
    "CloseReview": ("clinical review: closed (dismissed or unanswered)", "RuntimeError"),
    "FindAudience": ("audience", "RuntimeError"),
    "InformAccountTeam": FOR_EACH_CLIENT,
    "InformClient": FOR_EACH_CLIENT,
    "AskAccountTeam": FOR_EACH_CLIENT,
    "AskClient": FOR_EACH_CLIENT,
    "GenerateLetters": FOR_EACH_CLIENT,
    "RecordOutcome": FOR_EACH_CLIENT,
    "Prescribers": ("prescribers: notices planned", "RuntimeError"),
    "GenerateNotices": ("prescriber notices", "States.ExceedToleratedFailureThreshold"),
    "MeasureOutcomes": ("outcomes (lettered against held out)", "RuntimeError"),
    "Summary": ("summary", "RuntimeError"),
}
# A day is 100 s: 41 campaigns share one process on a loaded CI machine, and an approval clicked after the reminder
# time would make the report differ for a reason that is not the fault (seen at 10 s a day). Nothing here waits for
# a deadline, so a slower clock costs no time.
TIME_SCALE = 1 / 864
# The OTC campaigns measure their outcomes (without a holdout, so every campaign of the matrix letters the same
# members): the follow-up and MeasureOutcomes run, and get their faults like every other task.
MEASUREMENT = {"otc_switch": {"holdout_share": 0.0, "follow_up_days": 1}}
CANARIES = ("Lovelace", "Turing", "Hopper", "Johnson", "alan@mail.example", "kj@mail.example", "Main St")


# --- the matrix -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Scenario(Fault):
    @property
    def event_id(self) -> str:
        what = "permanent" if self.permanent else re.sub(r"[^A-Za-z]+", "-", str(self.error)).strip("-")
        where = "" if self.where == "before" else f"{self.where}-"
        return f"fault-{self.task}-{where}{what}".lower()

    @property
    def baseline(self) -> str:
        # notices go out for class I recalls; approvals are asked for OTC switches; reviews for a feed's candidate
        return {
            "InformAccountTeam": "clean-recall",
            "InformClient": "clean-recall",
            "AskClinicalReviewer": "clean-review",
            "CloseReview": "clean-dismissed",
        }.get(self.task, "clean-otc")

    def __str__(self) -> str:
        where = "" if self.where == "before" else f"-{self.where}"
        return f"{self.task}-{self.error or 'permanent'}{where}"


TRANSIENT = [Scenario(t, e) for t in TASKS for e in LAMBDA_TRANSIENT + SERVICE_TRANSIENT[t]]
PERMANENT = [Scenario(t, None) for t in TASKS]
# SES throttling past botocore's own retries, raised by send_raw_email as botocore raises it (a ClientError with SES's
# code) after the invocation sent one email: the SES adapter releases the key and raises Throttling, the task is
# retried, the email already sent is suppressed by the ledger and the rest go out. Every task that can send two
# emails in one invocation here: both notices (two account-team addresses; C2 has two client contacts) and letters
# (C2's batch has two email members). Not AskAccountTeam or AskClient: the email sent before the throttle carries a
# link bound to the attempt's task token, and the retry's link for that person is suppressed by the ledger (its key
# has the ask's attempt number, not the token). moto keeps one token across a state's Retry attempts (it makes the
# token when the state is entered, outside the retry loop), so here that first link keeps working and the case would
# pass; if AWS gives the retried attempt a new token, that link answers a closed task (TaskTimedOut) and blocks the
# group until the reminder. A passing case here would prove nothing about AWS: it is reported, not tested.
MID_SEND = [
    Scenario("InformAccountTeam", "Throttling", "mid-send"),
    Scenario("InformClient", "ThrottlingException", "mid-send"),
    Scenario("GenerateLetters", "Throttling", "mid-send"),
]
# Athena's TooManyRequestsException (botocore's modeled class), raised from the claims engine's rows once the first
# client's batches, batches.json and contacts.json are in S3: the retried audience overwrites them.
MID_STREAM = [Scenario("FindAudience", "TooManyRequestsException", "mid-stream")]
RETRIED = TRANSIENT + MID_SEND + MID_STREAM


CLEAN = ("clean-otc", "clean-recall", "clean-review", "clean-dismissed")
FEED_SOURCE = "coach.feed.drugs-at-fda"  # as coach_local/feed_demo.py puts its candidate on the bus
CONFIRM: ReviewChoice = {"decision": "confirm", "comment": "the lake's Claritin NDC is the one members fill"}
DISMISS: ReviewChoice = {"decision": "dismiss", "comment": "already announced by the plan"}


def event_for(event_id: str, baseline: str) -> dict:
    if baseline == "clean-recall":
        return market_event(event_id, "recall", "Claritin", ndcs=[CLARITIN_NDC], recall_class="I")
    event = market_event(event_id, "otc_switch", "Claritin", ndcs=[CLARITIN_NDC])
    if baseline in ("clean-review", "clean-dismissed"):  # a feed's candidate: intake starts it at its review
        event["source"] = FEED_SOURCE
        event["detail"]["review"] = {"reasons": ["Rx-to-OTC switch read from Drugs@FDA; NDCs to confirm."]}
    return event


@dataclass
class Matrix:
    together: Together
    injector: Injector

    def result(self, event_id: str) -> CampaignResult:
        return self.together.results[event_id]


RUIZ, OKOYE = "1234567893", "1245319599"


def write_matrix_lake(root: Path) -> Path:
    c2 = client("C2", "Two")
    c2["client_contact_emails"] = ["benefits@c2.example", "pharmacy@c2.example"]
    emailed = {"email_consent": True, "preferred_channel": "email"}
    return write_lake(
        root,
        [client("C1", "One", {"otc_switch": "always"}), c2],
        [
            member("M1", "C1", "Ada", "Lovelace"),
            member("M2", "C2", "Alan", "Turing", email="alan@mail.example", **emailed),
            member("M3", "C2", "Grace", "Hopper"),
            member("M4", "C2", "Katherine", "Johnson", email="kj@mail.example", **emailed),
        ],
        [
            (m, CLARITIN_NDC, date(2002, month, 1), "paid", npi)
            for m, month, npi in (("M1", 10, RUIZ), ("M2", 9, RUIZ), ("M3", 8, OKOYE), ("M4", 7, OKOYE))
        ],
        # every clean run tells both prescribers (C1's standing election, C2's approval, the class I recall)
        prescribers=[prescriber(RUIZ, "Dr. Ana Ruiz"), prescriber(OKOYE, "Dr. Ben Okoye")],
    )


def run_matrix(base: Path, scenarios: list[Scenario], *, redrive_after_fix: bool = False) -> Matrix:
    """The two clean campaigns and one campaign per scenario, each fault planned for its own campaign, all at once."""
    from coach.intake import campaign_id_for

    lake = write_matrix_lake(base / "lake")
    injector = Injector()
    events = [event_for(e, e) for e in CLEAN]
    dismissed = {campaign_id_for("clean-dismissed")}
    for scenario in scenarios:
        injector.plan(campaign_id_for(scenario.event_id), scenario)
        events.append(event_for(scenario.event_id, scenario.baseline))
        if scenario.baseline == "clean-dismissed":
            dismissed.add(campaign_id_for(scenario.event_id))
    assert len({e["detail"]["event_id"] for e in events}) == len(events)
    with injector.inside_handlers():
        together = run_together(
            lake,
            base / "out",
            events,
            faults=injector.faults(),
            timeout=300,
            time_scale=TIME_SCALE,
            fix_then_redrive=injector.fix if redrive_after_fix else None,
            measurement_overrides=MEASUREMENT,
            review=lambda campaign_id: DISMISS if campaign_id in dismissed else CONFIRM,
        )
    assert together.watcher_errors == []
    return Matrix(together, injector)


@pytest.fixture(scope="module")
def matrix(tmp_path_factory) -> Matrix:
    # The matrix compares each faulted campaign's emails with a clean run's, email by email. A digest groups a
    # person's asks by when they arrive, and a retried ask arrives later, so with digests the same questions can
    # come in differently grouped emails: the matrix runs with every ask emailed inside its own task (quiet 0).
    patch = pytest.MonkeyPatch()
    patch.setattr(digests, "DEFAULT_QUIET_SECONDS", 0.0)
    try:
        return run_matrix(tmp_path_factory.mktemp("faults"), [*RETRIED, *PERMANENT])
    finally:
        patch.undo()


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


def sending_task(sent: Sent) -> str:
    """The task that sent a member-, client-, account-team- or pharmacist-facing email, from its routing headers."""
    if sent.kind == "clinical_review":
        return "AskClinicalReviewer"
    if sent.kind == "notice":
        return {"mandatory_account_team": "InformAccountTeam", "mandatory_client": "InformClient"}[
            sent.headers["X-Coach-Notice"]
        ]
    if sent.kind == "approval":
        return {"account_team": "AskAccountTeam", "client": "AskClient"}[sent.headers["X-Coach-Role"]]
    if sent.kind == "outcome":
        return "MeasureOutcomes"
    assert sent.kind == "letter", sent.kind
    return "GenerateLetters"


def emails(result: CampaignResult, client_id: str | None = None, task: str | None = None) -> Counter[tuple]:
    return Counter(
        identity(s)
        for s in result.sent
        if s.kind != "operator_alert"
        and (client_id is None or s.headers.get("X-Coach-Client") == client_id)
        and (task is None or sending_task(s) == task)
    )


def letter_files(result: CampaignResult, client_id: str | None = None) -> set[str]:
    """Keys below campaigns/<id>/ in the letters bucket: <client>/batch-00000.pdf, its manifest part, manifest.csv."""
    return {key for key in result.letters if client_id is None or key.split("/", 1)[0] == client_id}


def failed_invocations(matrix: Matrix, campaign_id: str) -> list[str]:
    return [i.function for i in matrix.together.invocations if i.campaign_id == campaign_id and not i.ok]


# --- the matrix against the definition ----------------------------------------------------------------------------
def test_the_matrix_covers_every_task_state_of_the_state_machine():
    in_asl = set(task_states())
    assert set(TASKS) == in_asl, "a Task state of the ASL has no fault case (or a case names no Task state)"
    assert set(lambda_tasks()) == in_asl, (
        "a Task state that is not a Lambda invoke: the injector cannot reach it"
    )
    for scenarios in (TRANSIENT, PERMANENT):
        assert {s.task for s in scenarios} == in_asl
    assert set(TASK_ORDER) == set(ALERT_STAGE) == set(ALERT_SAYS_LOCALLY) == in_asl
    assert len({s.event_id for s in RETRIED + PERMANENT}) == len(RETRIED + PERMANENT)


def test_each_task_is_told_apart_by_its_payload():
    tasks = lambda_tasks()
    for task in tasks.values():
        assert task.function in FUNCTION_NAMES, task
    for a, b in combinations(tasks.values(), 2):
        if a.function != b.function:
            continue
        shared = set(a.constants) & set(b.constants)
        assert a.fields != b.fields or any(a.constants[k] != b.constants[k] for k in shared), (
            f"{a.name} and {b.name} invoke {a.function} with Payloads nothing tells apart"
        )
    injector = Injector()
    for task in tasks.values():
        event = {name: task.constants.get(name, f"<{name}>") for name in task.fields}
        assert injector.task_of(task.function, event) == task.name
    assert injector.unplaced == []


def test_the_alert_stage_of_each_task_is_that_of_the_innermost_state_of_its_path():
    tasks = lambda_tasks()
    assert {task: stage_of(tasks[task].path) for task in TASKS} == ALERT_STAGE
    assert len(set(ALERT_STAGE.values())) == len(ALERT_STAGE), "two tasks an operator cannot tell apart"
    # where the local runtime cannot look inside a Distributed Map, the top-level state's stage
    assert {task: stage_of(tasks[task].path[:1]) for task in TASKS} == {
        task: stage for task, (stage, _) in ALERT_SAYS_LOCALLY.items()
    }


@pytest.mark.parametrize("task", TASKS)
def test_every_task_retries_its_transient_errors_with_backoff_and_nothing_else(task):
    state = lambda_tasks()[task]
    retried = [name for retrier in state.retry for name in retrier["ErrorEquals"]]
    assert set(LAMBDA_TRANSIENT + SERVICE_TRANSIENT[task]) <= set(retried)
    assert len(retried) == len(set(retried)), "an error name in two retriers: only the first one applies"
    assert not {"States.ALL", "States.TaskFailed", "RuntimeError"} & set(retried), (
        "a permanent error is retried"
    )
    for retrier in state.retry:
        assert (
            retrier["IntervalSeconds"] >= 1 and retrier["BackoffRate"] >= 1.5 and retrier["MaxAttempts"] >= 3
        )
        assert retrier.get("JitterStrategy") == "FULL"


# --- the runs ---------------------------------------------------------------------------------------------------
def test_every_invocation_was_placed_at_one_task_and_the_clean_runs_reach_every_task(matrix):
    assert matrix.injector.unplaced == []
    seen = {task for (task, campaign), n in matrix.injector.calls.items() if n} & set(TASKS)
    clean = {matrix.result(e).campaign_id for e in CLEAN}
    assert {task for (task, campaign) in matrix.injector.calls if campaign in clean} == set(TASKS) == seen


def test_the_clean_runs_are_the_expected_ones(matrix):
    otc, recall = matrix.result("clean-otc"), matrix.result("clean-recall")
    assert (otc.status, recall.status) == ("SUCCEEDED", "SUCCEEDED"), (otc.error, recall.error)
    for result in (otc, recall):
        assert result.report is not None and result.report["totals"] == {
            "affected": 4,
            "reachable": 4,
            "letters": 4,
            "mailed": 2,
            "emailed": 2,
        }
        assert failed_invocations(matrix, result.campaign_id) == []
    # C1: team + lead (client `always`); C2: team + lead, both client contacts
    # and after the follow-up, the outcome to both account teams and every client contact (C1 one, C2 two)
    assert Counter(sending_task(s) for s in otc.sent) == {
        "AskAccountTeam": 4,
        "AskClient": 2,
        "GenerateLetters": 2,
        "MeasureOutcomes": 7,
    }
    assert Counter(sending_task(s) for s in recall.sent) == {
        "InformAccountTeam": 4,
        "InformClient": 3,
        "GenerateLetters": 2,
    }


def test_the_clean_reviewed_candidates_are_the_expected_ones(matrix):
    otc, review, dismissed = (matrix.result(e) for e in ("clean-otc", "clean-review", "clean-dismissed"))
    assert (review.status, dismissed.status) == ("SUCCEEDED", "SUCCEEDED"), (review.error, dismissed.error)
    for result in (review, dismissed):
        assert failed_invocations(matrix, result.campaign_id) == []
        assert sum(emails(result, task="AskClinicalReviewer").values()) == 1, "not one review email"
    # confirmed: the review email, then the OTC campaign as if the event had been written by hand
    assert review.report is not None and otc.report is not None
    assert comparable(review.report) == comparable(otc.report)
    assert emails(review) - emails(review, task="AskClinicalReviewer") == emails(otc)
    assert letter_files(review) == letter_files(otc)
    # dismissed: the review email only, and a report saying why nothing was sent
    assert dismissed.report is not None and dismissed.report["status"] == "dismissed"
    assert dismissed.report["totals"]["letters"] == 0 and dismissed.report["clients"] == []
    assert emails(dismissed) == emails(dismissed, task="AskClinicalReviewer") and dismissed.letters == []


@pytest.mark.parametrize("scenario", RETRIED, ids=str)
def test_a_transient_fault_is_retried_and_changes_nothing(matrix, scenario):
    result, clean = matrix.result(scenario.event_id), matrix.result(scenario.baseline)
    key = (scenario.task, result.campaign_id)
    assert matrix.injector.raised[key] == 1 and matrix.injector.calls[key] >= 2, "the fault did not fire"
    assert len(failed_invocations(matrix, result.campaign_id)) == 1, "not exactly one invocation failed"
    assert result.status == "SUCCEEDED", result.error
    assert result.report is not None and clean.report is not None
    assert comparable(result.report) == comparable(clean.report)
    sent = emails(result)
    assert max(sent.values()) == 1, f"sent twice: {[k for k, n in sent.items() if n > 1]}"
    assert sent == emails(clean)
    assert len(result.outbox) == len(result.sent)  # one .eml per SES send: no send under a reused key either
    assert letter_files(result) == letter_files(clean)


@pytest.mark.parametrize("scenario", MID_SEND, ids=str)
def test_ses_throttling_mid_send_the_retry_sends_only_what_had_not_gone_out(matrix, scenario):
    result, clean = matrix.result(scenario.event_id), matrix.result(scenario.baseline)
    key = (scenario.task, result.campaign_id)
    assert matrix.injector.sent_before[key] == scenario.after, "SES throttled before anything was sent"
    (hit,) = matrix.injector.raised_for[key]
    assert failed_invocations(matrix, result.campaign_id) == [lambda_tasks()[scenario.task].function]
    assert result.status == "SUCCEEDED", result.error
    # the client whose send was throttled got every email of the task, each once, like the clean run's client
    task_emails = emails(result, hit, scenario.task)
    assert sum(task_emails.values()) > scenario.after and set(task_emails.values()) == {1}
    assert task_emails == emails(clean, hit, scenario.task)


def test_athena_throttling_mid_stream_the_retried_audience_overwrites_the_partial_one(matrix):
    (scenario,) = MID_STREAM
    result = matrix.result(scenario.event_id)
    key = (scenario.task, result.campaign_id)
    assert matrix.injector.sent_before[key] >= 2, "throttled before the first client was written"
    assert failed_invocations(matrix, result.campaign_id) == ["audience"]
    assert result.status == "SUCCEEDED", result.error
    assert result.report is not None and [row["client_id"] for row in result.report["clients"]] == [
        "C1",
        "C2",
    ]


def assert_alerted_once(result: CampaignResult, task: str) -> None:
    alerts = [s for s in result.sent if s.kind == "operator_alert"]
    assert len(alerts) == 1, [s.subject for s in alerts]
    alert = alerts[0]
    assert alert.to == ("operations@pbm.example",)
    stage, error = ALERT_SAYS_LOCALLY[task]
    # (a long Subject is folded: compare its words)
    assert alert.subject.split() == f"Campaign {result.campaign_id} failed at stage {stage}".split()
    assert f"failed at the {stage} stage with error {error}." in alert.text
    for canary in CANARIES:
        assert canary not in alert.subject and canary not in alert.text
    assert sum(1 for path in result.outbox if "operator_alert" in path.read_text(errors="replace")) == 1


@pytest.mark.parametrize("scenario", PERMANENT, ids=str)
def test_a_permanent_fault_fails_the_campaign_alerts_once_and_sends_nothing_further(matrix, scenario):
    result, clean = matrix.result(scenario.event_id), matrix.result(scenario.baseline)
    key = (scenario.task, result.campaign_id)
    assert matrix.injector.raised[key] >= 1, "the fault did not fire"
    assert result.status == "FAILED"
    assert result.report is None, "a report for a campaign that failed"
    assert_alerted_once(result, scenario.task)
    sent = emails(result)
    assert not sent or max(sent.values()) == 1
    assert set(sent) <= set(emails(clean)), "an email the clean run did not send"
    assert letter_files(result) <= letter_files(clean)
    failed_at = TASK_ORDER[scenario.task]
    if scenario.task == "FindAudience":
        assert (sent, result.letters) == (Counter(), []), "sent before the audience was found"
        return
    # the review email is the failed task's own, and it failed before sending it: nobody was asked, nothing went out
    if scenario.task == "AskClinicalReviewer":
        assert (sent, result.letters) == (Counter(), []), "sent before the review was asked"
        assert emails(clean, task="AskClinicalReviewer"), "the clean run asked nobody"
        return
    # the pharmacist dismissed it: the review email went out, nothing else (and no report, asserted above)
    if scenario.task == "CloseReview":
        assert sent == emails(clean, task="AskClinicalReviewer") == emails(clean) != Counter()
        assert result.letters == []
        return
    # campaign-level steps after every client finished: all was sent, only what follows is missing
    if scenario.task == "Summary":
        assert (sent, letter_files(result)) == (emails(clean), letter_files(clean))
        return
    # the prescriber steps and the measurement come after every client: only the outcome emails (last) are missing
    if scenario.task in ("Prescribers", "GenerateNotices", "MeasureOutcomes"):
        assert sent == emails(clean) - emails(clean, task="MeasureOutcomes")
        assert emails(result, task="MeasureOutcomes") == Counter()
        assert letter_files(result) == letter_files(clean)
        return
    hit = matrix.injector.raised_for[key]
    assert hit, "the fault fired for no client"
    for client_id in hit:  # what came before the task went out, nothing of the task or after it did
        for task, order in TASK_ORDER.items():
            if task not in CLIENT_BRANCH:
                continue
            expected = emails(clean, client_id, task) if order < failed_at else Counter()
            assert emails(result, client_id, task) == expected, (client_id, task)
        batches = {k for k in letter_files(clean, client_id) if "/batch-" in k}
        before_letters = failed_at <= TASK_ORDER["GenerateLetters"]
        assert {k for k in letter_files(result, client_id) if "/batch-" in k} == (
            set() if before_letters else batches
        ), client_id


def test_faults_in_other_campaigns_left_the_clean_ones_alone(matrix):
    for result in matrix.together.results.values():
        assert all(s.campaign == result.campaign_id for s in result.sent)
    planned = set(matrix.injector.plans)
    for event_id in CLEAN:
        campaign = matrix.result(event_id).campaign_id
        assert campaign not in planned and not any(matrix.injector.raised[(t, campaign)] for t in TASKS)


# --- a permanent fault at every task, fixed, then the failed campaigns redriven -------------------------------------
@pytest.fixture(scope="module")
def redriven(tmp_path_factory) -> Matrix:
    """Each task fails for good in its own campaign; once all have failed the faults are removed (the operator fixed
    the cause) and every failed campaign is redriven, all at once, beside two clean campaigns run alongside."""
    patch = pytest.MonkeyPatch()
    patch.setattr(digests, "DEFAULT_QUIET_SECONDS", 0.0)  # emails compared one by one (see `matrix`)
    try:
        return run_matrix(tmp_path_factory.mktemp("redrive-faults"), PERMANENT, redrive_after_fix=True)
    finally:
        patch.undo()


@pytest.mark.parametrize("scenario", PERMANENT, ids=str)
def test_after_the_fix_a_redrive_finishes_the_campaign_with_nothing_sent_twice(redriven, scenario):
    result, clean = redriven.result(scenario.event_id), redriven.result(scenario.baseline)
    assert redriven.injector.raised[(scenario.task, result.campaign_id)] >= 1, "the fault did not fire"
    assert (result.first_status, result.status) == ("FAILED", "SUCCEEDED"), result.error
    # the campaign as it would have been without the fault: the same report, emails and letters, each once
    assert result.report is not None and clean.report is not None
    assert comparable(result.report) == comparable(clean.report)
    assert_alerted_once(result, scenario.task)  # for the failure; the redrive that succeeded alerts nobody
    sent = emails(result)
    assert max(sent.values()) == 1, f"sent twice: {[k for k, n in sent.items() if n > 1]}"
    assert sent == emails(clean)
    assert len(result.outbox) == len(result.sent)
    assert letter_files(result) == letter_files(clean)
