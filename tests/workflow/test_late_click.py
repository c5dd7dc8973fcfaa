"""A closed wait closes its links, through the real ASL on the local runtime (moto corrected as AWS behaves).

Client C1's account team stays silent: ask, reminder, escalation, then no_response. Two clicks come too late:
- the first email's link, clicked just after its wait timed out (before the reminder replaced it): the decision
  reaches Step Functions, which answers TaskTimedOut, so the page says the request no longer waits;
- the last email's link, clicked after the branch ended (its links closed): refused before anything is recorded.
Client C2 approves; its campaign completes. The report, the audit and the outbox agree."""

from __future__ import annotations

import email
import email.policy
import re
import urllib.error
import urllib.parse
import urllib.request
from datetime import date
from pathlib import Path

import pytest

from coach_local.approver import CSRF, answer, read_approval_email
from coach_local.inputs import load_event
from coach_local.runner import run_campaign
from coach_local.runtime import digests
from tests.workflow.tiny_lake import CLARITIN_NDC, client, member, write_lake

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
EVENT = ROOT / "coach_local" / "events" / "claritin_otc.json"
FILL = date(2002, 10, 15)
CLIENTS = [client("C1", "Silent Team Inc"), client("C2", "Answers Promptly LLC")]
MEMBERS = [member("M100", "C1", "Ignatius", "Wetherby"), member("M200", "C2", "Henrietta", "Ostrander")]
FILLS = [(m["member_id"], CLARITIN_NDC, FILL, "paid") for m in MEMBERS]


def approval_emails(outbox: Path, client_id: str) -> list:
    found = [read_approval_email(p.read_bytes()) for p in sorted(outbox.glob("*.eml"))]
    return [f for f in found if f is not None and f.client_id == client_id]


def fetch(link: str, form: dict[str, str] | None = None) -> tuple[int, str]:
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(link, data=data, method="POST" if form is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read().decode()


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    import coach.adapters.stepfunctions as sfn_adapter
    import coach.approvals.asking as approvals
    import coach.approvals.waits as waits
    from coach.settings import settings

    seen: dict = {"callbacks": []}

    def outbox() -> (
        Path
    ):  # where this run's mailer writes (the run works in a folder of its own until it ends)
        return Path(settings().outbox_dir or "")

    request_approval, close_waits = approvals.request_approval, waits.close_waits
    succeed, fail = sfn_adapter.StepFunctionsCallbacks.succeed, sfn_adapter.StepFunctionsCallbacks.fail

    def asking(request, **kwargs):
        if request.client.client_id == "C1" and request.kind == "reminder" and "race_status" not in seen:
            try:
                first = next(f for f in approval_emails(outbox(), "C1") if f.attempt == "0")
                seen["first_link"], seen["race_status"] = first.link, answer(first.link, "approve")
            except Exception as exc:  # reported by the test below, not as a failed Lambda
                seen["race_status"] = f"{type(exc).__name__}: {exc}"
        sent = request_approval(request, **kwargs)
        if (
            request.client.client_id == "C1" and request.kind == "escalation"
        ):  # a browser opens the last email
            last = next(f for f in approval_emails(outbox(), "C1") if f.kind == "escalation")
            status, html = fetch(last.link)
            match = CSRF.search(html)
            assert status == 200 and match, "the escalation's page must offer the form while it waits"
            seen["last_link"], seen["last_csrf"] = last.link, match.group(1)
        return sent

    def closing(campaign_id, client_id, **kwargs):
        closed = close_waits(campaign_id, client_id, **kwargs)
        if client_id == "C1":  # the branch has ended: now the person answers the form they had open
            seen["closed"] = closed
            calls_before = len(seen["callbacks"])
            seen["late_get"] = fetch(seen["last_link"])
            form = {"csrf_token": seen["last_csrf"], "decision": "approve", "comment": "back from leave"}
            seen["late_post"] = fetch(seen["last_link"], form)
            seen["late_callbacks"] = len(seen["callbacks"]) - calls_before
        return closed

    def recording_succeed(self, task_token, output):
        seen["callbacks"].append(("succeed", task_token))
        return succeed(self, task_token, output)

    def recording_fail(self, task_token, error, cause):
        seen["callbacks"].append(("fail", task_token))
        return fail(self, task_token, error, cause)

    patch = pytest.MonkeyPatch()
    # each ask emailed inside its own task (request_approval, hooked above): the race this test stages needs the
    # email and the wait to start together; digests (asks collected per person) have tests/workflow/test_digests.py
    patch.setattr(digests, "DEFAULT_QUIET_SECONDS", 0.0)
    patch.setattr(approvals, "request_approval", asking)
    patch.setattr(waits, "close_waits", closing)
    patch.setattr(sfn_adapter.StepFunctionsCallbacks, "succeed", recording_succeed)
    patch.setattr(sfn_adapter.StepFunctionsCallbacks, "fail", recording_fail)
    base = tmp_path_factory.mktemp("late")
    lake = write_lake(base / "lake", CLIENTS, MEMBERS, FILLS)
    try:
        result = run_campaign(
            load_event(EVENT),
            lake,
            base / "out",
            decisions={"C1": {"account_team": "none"}},
            timeout=600,
            # a playbook day is 3 s (waits of 9 s): the reminder's own wait, which runs the click above inside
            # its approval_request invocation, keeps room for it on a loaded machine
            time_scale=1 / 28_800,
        )
    finally:
        patch.undo()
    return result, seen


def test_the_campaign_completes_for_both_clients(campaign):
    result, _ = campaign
    assert result.status == "SUCCEEDED", (result.error, result.function_errors)
    outcomes = {row["client_id"]: row["outcome"] for row in result.report["clients"]}
    assert outcomes == {"C1": "no_response_account_team", "C2": "letters_sent"}


def test_a_click_just_after_the_wait_timed_out_is_told_it_no_longer_waits(campaign):
    result, seen = campaign
    # moto alone took the token; AWS (and the corrected runtime) refuse it
    assert seen.get("race_status") == 410, (seen.get("race_status"), result.function_errors)


def test_a_click_after_the_branch_ended_is_refused_before_anything_is_recorded(campaign):
    _, seen = campaign
    assert seen["closed"] >= 3  # the escalation's links: both team members and the escalation contact
    status, html = seen["late_get"]
    assert status == 410 and "no longer waiting for an answer" in html and 'name="csrf_token"' not in html
    status, html = seen["late_post"]
    assert status == 410 and "no longer waiting" in html and "Thank you" not in html
    assert seen["late_callbacks"] == 0


def test_report_and_audit_agree_nobody_decided_for_the_silent_team(campaign):
    result, _ = campaign
    c1 = next(row for row in result.report["clients"] if row["client_id"] == "C1")
    assert (c1["account_team_decision"], c1["letters"]) == ("no_response", 0)
    timeline = {(row["client_id"], row["role"]): row for row in result.report["approvals"]}
    assert timeline[("C1", "account_team")]["decision"] == "no_response"
    assert timeline[("C1", "account_team")]["decided_at"] is None
    import json

    audit = json.loads((result.out_dir / "audit.json").read_text())["decisions"]
    c1_trail = [(r["action"], r["step"]) for r in audit if r["client_id"] == "C1"]
    # the race: recorded, then closed by Step Functions' answer; the late click: kept as such, never a decision
    assert c1_trail == [("approved", 0), ("task_closed", 1), ("late_click", 0)]
    assert all(r["who"].count("@") == 1 for r in audit)


def test_no_letter_went_to_the_silent_clients_members(campaign):
    result, _ = campaign
    kinds = []
    for path in (result.out_dir / "outbox").glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        kinds.append((message.get("X-Coach-Client"), message.get("X-Coach-Kind")))
    assert ("C1", "letter") not in kinds
    assert not list((result.out_dir / "letters").glob("C1/*.pdf"))
    assert list((result.out_dir / "letters").glob("C2/*.pdf"))
    assert re.search(r"C2", " ".join(str(p) for p in (result.out_dir / "letters").rglob("*.pdf")))
