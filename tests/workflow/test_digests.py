"""Digests under the real ASL (moto's interpreter, the real handlers, the demo approver reading its mail): one
person asked about several clients gets one email, answers it in one submit, and every client's branch is resumed
by its own callback; a team that stays silent gets its reminders as one email too; an approver away is replaced by
their delegate, and the audit trail names both."""

from __future__ import annotations

import email
import email.policy
import json
from datetime import date
from pathlib import Path

import pytest
from coach.approvals.delegation import Delegation

from coach_local.delegations import add_delegation
from coach_local.inputs import load_event
from coach_local.runner import run_campaign
from coach_local.runtime import digests
from tests.workflow.tiny_lake import CLARITIN_NDC, client, member, write_lake

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
EVENT = ROOT / "coach_local" / "events" / "claritin_otc.json"
FILL = date(2002, 10, 15)
PAT, SAM, LEE, KIM = "pat@pbm.example", "sam@pbm.example", "lee@pbm.example", "kim@pbm.example"
TEAMS = {"C1": PAT, "C2": PAT, "C3": PAT, "C4": SAM, "C5": SAM, "C6": LEE}
DECISIONS = {
    "C2": {"account_team": "decline"},
    "C4": {"account_team": "none"},
    "C5": {"account_team": "none"},
}


def with_team(client_id: str) -> dict:
    row = client(client_id, f"Plan {client_id}")
    row["account_team_emails"] = [TEAMS[client_id]]
    return row


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    base = tmp_path_factory.mktemp("digests")
    members = [member(f"M{n}", c, "Iris", f"Canary{n}") for n, c in enumerate(TEAMS)]
    fills = [(m["member_id"], CLARITIN_NDC, FILL, "paid") for m in members]
    lake = write_lake(base / "lake", [with_team(c) for c in TEAMS], members, fills)
    # Lee is away for the whole campaign (1970 to 2100): Kim decides in Lee's place
    add_delegation(lake, Delegation(approver=LEE, delegate=KIM, starts=0, ends=4_102_444_800))
    patch = pytest.MonkeyPatch()
    patch.setattr(digests, "DEFAULT_QUIET_SECONDS", 2.0)  # asks of one campaign arrive well within this
    patch.setattr(digests, "DEFAULT_MAX_SECONDS", 20.0)
    try:
        result = run_campaign(
            load_event(EVENT), lake, base / "out", decisions=DECISIONS, timeout=300, time_scale=1 / 86_400
        )
    finally:
        patch.undo()
    assert result.status == "SUCCEEDED", result.error
    return result


def emails_to(result, address: str) -> list[email.message.EmailMessage]:
    found = []
    for path in sorted((result.out_dir / "outbox").glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["To"] == address:
            found.append(message)
    return found


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def test_one_person_asked_about_three_clients_gets_one_email(campaign):
    (only,) = emails_to(campaign, PAT)
    assert only["X-Coach-Kind"] == "approval_digest" and only["Subject"] == "Decisions needed: 3 clients"
    for client_id in ("C1", "C2", "C3"):
        assert f"Plan {client_id} ({client_id})" in text_of(only)
    assert "Canary" not in only.as_string()


def test_each_client_of_the_digest_is_resumed_by_its_own_decision(campaign):
    rows = {row["client_id"]: row for row in campaign.report["clients"]}
    assert rows["C2"]["account_team_decision"] == "declined" and rows["C2"]["letters"] == 0
    for client_id in ("C1", "C3"):
        assert (rows[client_id]["account_team_decision"], rows[client_id]["client_decision"]) == (
            "approved",
            "approved",
        )
        assert rows[client_id]["letters"] == 1
    audit = json.loads((campaign.out_dir / "audit.json").read_text())["decisions"]
    team = [r for r in audit if r["role"] == "account_team" and r["client_id"] in ("C1", "C2", "C3")]
    assert sorted((r["client_id"], r["action"]) for r in team) == [
        ("C1", "approved"),
        ("C2", "declined"),
        ("C3", "approved"),
    ]
    assert len({r["link_hash"] for r in team}) == 3, "one link, one record per client"
    assert next(r for r in team if r["client_id"] == "C2")["reason"] == "not_relevant"


def test_a_silent_team_gets_its_reminders_as_one_email_too(campaign):
    subjects = [m["Subject"] for m in emails_to(campaign, SAM)]
    assert {"Decisions needed: 2 clients", "Reminder: decisions needed: 2 clients"} <= set(subjects)
    assert all("clients" in s for s in subjects), "never one email per client"
    rows = {row["client_id"]: row for row in campaign.report["clients"]}
    assert rows["C4"]["account_team_decision"] == rows["C5"]["account_team_decision"] == "no_response"


def test_a_delegated_ask_reaches_the_delegate_and_the_audit_names_both(campaign):
    assert not emails_to(campaign, LEE), "nothing goes to the approver who is away"
    (asked,) = [m for m in emails_to(campaign, KIM) if m["X-Coach-Role"] == "account_team"]
    assert f"on behalf of {LEE}" in text_of(asked)
    audit = json.loads((campaign.out_dir / "audit.json").read_text())["decisions"]
    (record,) = [r for r in audit if r["client_id"] == "C6" and r["role"] == "account_team"]
    assert (record["action"], record["who"], record["on_behalf_of"]) == ("approved", KIM, LEE)
