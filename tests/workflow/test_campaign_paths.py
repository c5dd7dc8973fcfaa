"""The real ASL under moto's interpreter, with the real handlers: every path a client's branch can take."""

from __future__ import annotations

import csv
import email
import email.policy
from datetime import date
from pathlib import Path

import pytest

from coach_local.inputs import load_event
from coach_local.runner import run_campaign
from tests.workflow.tiny_lake import CLARITIN_NDC, OTHER_NDC, client, member, write_lake

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
EVENT = ROOT / "coach_local" / "events" / "claritin_otc.json"
FILL = date(2002, 10, 15)

# Canary names: if one of these shows up outside a letter or a member's own email, PHI leaked.
CLIENTS = [
    client("C1", "Always Approves Inc", {"otc_switch": "always"}),
    client("C2", "Asks Every Time LLC"),
    client("C3", "Never For OTC Co", {"otc_switch": "never"}),
    client("C4", "Team Declines Ltd"),
    client("C5", "Client Silent Corp"),
    client("C6", "Team Silent Corp"),
]
MEMBERS = [
    member("M100", "C1", "Zebulon", "Quartermaine"),
    member("M101", "C1", "Ysolde", "Farthingale", deceased=True),
    member("M200", "C2", "Xanthe", "Oglethorpe"),
    member(
        "M201",
        "C2",
        "Wolfram",
        "Pettigrew",
        email="wolfram@mail.example",
        email_consent=True,
        preferred_channel="email",
    ),
    member("M202", "C2", "Valentin", "Ashcombe", language="es"),
    member("M203", "C2", "Ulrika", "Brackenbury"),  # reversed claim only: not affected
    member("M300", "C3", "Tobiah", "Cavendish"),
    member("M400", "C4", "Sabine", "Delacroix"),
    member("M500", "C5", "Rosalind", "Eversleigh"),
    member("M600", "C6", "Quentin", "Fairweather", opted_out=True),
    member("M601", "C6", "Perpetua", "Galloway"),
]
FILLS = [(m["member_id"], CLARITIN_NDC, FILL, "paid") for m in MEMBERS if m["member_id"] != "M203"]
FILLS += [("M203", CLARITIN_NDC, FILL, "reversed"), ("M100", OTHER_NDC, FILL, "paid")]
DECISIONS = {"C4": {"account_team": "decline"}, "C5": {"client": "none"}, "C6": {"account_team": "none"}}


TASK_TOKENS: list[str] = []


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    import coach.approvals.asking as approvals
    import coach.approvals.digest as digests

    def recording(original):  # the token each approval task waits on, to look for leaks later
        def record(request, **kwargs):
            TASK_TOKENS.append(request.task_token)
            return original(request, **kwargs)

        return record

    patch = pytest.MonkeyPatch()
    patch.setattr(approvals, "request_approval", recording(approvals.request_approval))
    patch.setattr(digests, "queue_request", recording(digests.queue_request))  # asks sent as digests
    base = tmp_path_factory.mktemp("paths")
    lake = write_lake(base / "lake", CLIENTS, MEMBERS, FILLS)
    try:
        # a playbook day lasts one second here, so the silent paths (reminder, escalation) finish quickly
        result = run_campaign(
            load_event(EVENT), lake, base / "out", decisions=DECISIONS, timeout=300, time_scale=1 / 86_400
        )
    finally:
        patch.undo()
    return result


def test_no_task_token_in_any_email_page_log_or_report(campaign):
    assert len(TASK_TOKENS) >= 10
    texts = [
        p.read_text(errors="ignore")
        for p in campaign.out_dir.rglob("*")
        if p.is_file() and p.suffix in (".eml", ".log", ".json")
    ]
    for token in TASK_TOKENS:
        assert not [t for t in texts if token in t]


def rows(result):
    return {row["client_id"]: row for row in result.report["clients"]}


def test_campaign_succeeds_and_writes_report(campaign):
    assert campaign.status == "SUCCEEDED", campaign.error
    assert (campaign.out_dir / "report.json").exists()
    assert campaign.report["event_id"] == "fdc-2002-11-27-loratadine-otc"


def test_standing_election_always_skips_the_client_question(campaign):
    c1 = rows(campaign)["C1"]
    assert (c1["account_team_decision"], c1["client_decision"]) == ("approved", "auto")
    assert (c1["affected"], c1["reachable"], c1["letters"]) == (2, 1, 1)


def test_ask_election_asks_both_and_sends_letters(campaign):
    c2 = rows(campaign)["C2"]
    assert (c2["account_team_decision"], c2["client_decision"]) == ("approved", "approved")
    assert (c2["affected"], c2["reachable"], c2["letters"]) == (3, 3, 3)
    assert c2["emailed"] == 1 and c2["mailed"] == 2


def test_election_never_asks_nobody_and_sends_nothing(campaign):
    c3 = rows(campaign)["C3"]
    assert (c3["account_team_decision"], c3["client_decision"], c3["letters"]) == ("not_asked", "auto", 0)
    assert not any(
        "c3" in p.read_text(errors="ignore").lower()
        for p in (campaign.out_dir / "outbox").glob("*.eml")
        if "X-Coach-Client: C3" in p.read_text(errors="ignore")
    )


def test_account_team_decline_ends_only_that_clients_branch(campaign):
    c4 = rows(campaign)["C4"]
    assert (c4["account_team_decision"], c4["client_decision"], c4["letters"]) == ("declined", "not_asked", 0)
    assert rows(campaign)["C2"]["letters"] == 3  # the campaign went on for the others


def test_client_silence_times_out_to_no_response(campaign):
    c5 = rows(campaign)["C5"]
    assert (c5["account_team_decision"], c5["client_decision"], c5["letters"]) == (
        "approved",
        "no_response",
        0,
    )


def test_account_team_silence_gets_reminder_then_escalation_then_no_response(campaign):
    c6 = rows(campaign)["C6"]
    assert (c6["account_team_decision"], c6["letters"]) == ("no_response", 0)
    sent = []
    for path in (campaign.out_dir / "outbox").glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message.get("X-Coach-Client") == "C6" and message.get("X-Coach-Kind") == "approval":
            sent.append((message.get("X-Coach-Request"), str(message["To"])))
    assert sorted(to for kind, to in sent if kind == "ask") == ["lead-c6@pbm.example", "team-c6@pbm.example"]
    assert len([1 for kind, _ in sent if kind == "reminder"]) == 2
    # the escalation asks the client's escalation contact, and re-asks the team so their links still work
    escalation = sorted(to for kind, to in sent if kind == "escalation")
    assert escalation == ["lead-c6@pbm.example", "team-c6@pbm.example", "vp@c6.example"]


def test_manifest_lists_exactly_the_reachable_members_of_approved_clients(campaign):
    listed = {}
    for manifest in (campaign.out_dir / "letters").glob("*/manifest.csv"):
        with manifest.open(newline="") as handle:
            for row in csv.DictReader(handle):
                listed[row["member_id"]] = row
    assert set(listed) == {"M100", "M200", "M201", "M202"}
    assert listed["M201"]["channel"] == "email" and listed["M200"]["channel"] == "mail"
    assert listed["M202"]["language"] == "es"


def test_emails_to_people_who_decide_carry_counts_and_no_member(campaign):
    names = [n for m in MEMBERS for n in (m["first_name"], m["last_name"])]
    checked = 0
    for path in (campaign.out_dir / "outbox").glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message.get("X-Coach-Kind") == "letter":
            continue  # the member's own letter by email
        text = path.read_text(errors="ignore")
        assert not [n for n in names if n in text], path.name
        checked += 1
    assert checked >= 10


def test_workflow_history_and_logs_hold_no_member_data(campaign):
    names = [n for m in MEMBERS for n in (m["first_name"], m["last_name"], m["address_line1"])]
    logs = (campaign.out_dir / "logs" / "functions.log").read_text()
    history = (campaign.out_dir / "logs" / "execution-history.json").read_text()
    assert "FindAudience" in history
    assert not [n for n in names if n in history]
    assert logs.strip(), "handlers must log something"
    assert not [n for n in names if n in logs]
    report = (campaign.out_dir / "report.json").read_text()
    assert not [n for n in names if n in report]
    assert not [m["member_id"] for m in MEMBERS if m["member_id"] in report]


def test_letter_pdf_shows_name_drug_and_effective_date(campaign):
    from pypdf import PdfReader

    text = "".join(
        page.extract_text()
        for pdf in (campaign.out_dir / "letters").glob("C2/*.pdf")
        for page in PdfReader(pdf).pages
    )
    assert "Xanthe Oglethorpe" in text and "Claritin" in text
    assert "January 1, 2003" in text  # the event's effective date, in each letter's language
    assert "Valentin Ashcombe" in text and "1 de enero de 2003" in text
    assert "Wolfram" not in text  # he chose email
