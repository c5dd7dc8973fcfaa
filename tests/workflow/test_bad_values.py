"""One bad value never sinks a campaign (fault injection through the real ASL on the local runtime).

- a member's malformed email: paper when there is an address, else counted unreachable with a reason;
- a client name, or an account-team address, holding a line break: refused before anything is sent at `coach run`
  start, and (on AWS, where no start check runs) isolated in the workflow: that client's branch ends
  `invalid_contacts` with an operator alert, the others complete;
- two addresses in one cell: two links, one person each, and the audit names exactly one address.
The report, the audit and the outbox agree."""

from __future__ import annotations

import csv
import email
import email.policy
import json
from datetime import date
from pathlib import Path

import pytest

from coach_local.inputs import BadInput, load_event
from coach_local.runner import run_campaign
from tests.workflow.tiny_lake import CLARITIN_NDC, client, member, write_lake

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
EVENT = ROOT / "coach_local" / "events" / "claritin_otc.json"
FILL = date(2002, 10, 15)

BROKEN_NAME = client("C2", "Broken Name\r\nBcc: attacker@evil.example Inc")
BROKEN_TEAM = client("C3", "Broken Team Ltd")
BROKEN_TEAM["account_team_emails"] = ["team-c3@pbm.example\r\nBcc: attacker@evil.example"]
SHARED_CELL = client("C4", "Shared Cell Co")
SHARED_CELL["account_team_emails"] = ["ann@c4team.example, bob@c4team.example"]
SHARED_CELL["client_contact_emails"] = ["hr@c4.example; benefits@c4.example"]
CLIENTS = [client("C1", "Good Data Inc"), BROKEN_NAME, BROKEN_TEAM, SHARED_CELL]
MEMBERS = [
    member("M100", "C1", "Octavia", "Pemberton"),
    # a malformed email she prefers: she has an address, so she gets paper
    member(
        "M101",
        "C1",
        "Nikolai",
        "Quennell",
        email="not-an-email",
        email_consent=True,
        preferred_channel="email",
    ),
    # a line break in the only channel he has: not reachable, and counted with its reason
    member(
        "M102",
        "C1",
        "Marisol",
        "Rutherford",
        address_line1=None,
        email="m102@mail.example\r\nBcc: attacker@evil.example",
        email_consent=True,
        preferred_channel="email",
    ),
    member("M200", "C2", "Leopold", "Sandringham"),
    member("M300", "C3", "Kassandra", "Thistlewood"),
    member("M400", "C4", "Jasper", "Underhill"),
]
FILLS = [(m["member_id"], CLARITIN_NDC, FILL, "paid") for m in MEMBERS]


def messages(out: Path) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in sorted((out / "outbox").glob("*.eml"))
    ]


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    return write_lake(tmp_path_factory.mktemp("bad") / "lake", CLIENTS, MEMBERS, FILLS)


@pytest.fixture(scope="module")
def campaign(lake, tmp_path_factory):
    """The workflow's own isolation, as on AWS: the run skips the local start check."""
    import coach_local.claims.lake as lake_checks

    patch = pytest.MonkeyPatch()
    patch.setattr(lake_checks, "check_clients", lambda lake_dir: None)
    try:
        return run_campaign(
            load_event(EVENT), lake, tmp_path_factory.mktemp("out"), timeout=600, time_scale=1 / 28_800
        )
    finally:
        patch.undo()


def rows(result) -> dict[str, dict]:
    return {row["client_id"]: row for row in result.report["clients"]}


def test_coach_run_refuses_the_lake_before_anything_is_sent(lake, tmp_path):
    with pytest.raises(BadInput) as refused:
        run_campaign(load_event(EVENT), lake, tmp_path / "out", timeout=60)
    message = str(refused.value)
    assert "clients" in message and "client C2" in message and "name:" in message
    assert "\r" not in message and "attacker" not in message
    assert not list((tmp_path / "out").glob("outbox/*.eml"))


def test_the_campaign_completes_and_isolates_the_broken_clients(campaign):
    assert campaign.status == "SUCCEEDED", campaign.error
    outcomes = {client_id: row["outcome"] for client_id, row in rows(campaign).items()}
    assert outcomes == {
        "C1": "letters_sent",
        "C2": "invalid_contacts",
        "C3": "invalid_contacts",
        "C4": "letters_sent",
    }
    assert (rows(campaign)["C2"]["letters"], rows(campaign)["C3"]["letters"]) == (0, 0)


def test_nobody_at_a_broken_client_is_emailed_and_the_operator_is_told_which(campaign):
    sent = messages(campaign.out_dir)
    asked = {m.get("X-Coach-Client") for m in sent if m.get("X-Coach-Kind") == "approval"}
    assert asked == {"C1", "C4"}
    alerts = {m.get("X-Coach-Client"): m for m in sent if m.get("X-Coach-Kind") == "operator_alert"}
    assert set(alerts) == {"C2", "C3"}
    assert (
        "name:" in alerts["C2"].get_content()
        and "account_team_emails: address 1" in alerts["C3"].get_content()
    )
    assert not [m for m in sent if "attacker@evil.example" in str(m.get("To")) + str(m.get("Bcc"))]
    for message in sent:
        assert "\r" not in str(message["Subject"]) and "\n" not in str(message["Subject"])


def test_a_malformed_member_email_means_paper_or_unreachable_with_a_reason(campaign):
    c1 = rows(campaign)["C1"]
    assert (c1["affected"], c1["reachable"], c1["mailed"], c1["emailed"]) == (3, 2, 2, 0)
    assert c1["data_issues"] == {"invalid_email_mailed": 1, "invalid_email_unreachable": 1}
    assert campaign.report["data_issues"] == {"invalid_email_mailed": 1, "invalid_email_unreachable": 1}
    with (campaign.out_dir / "letters" / "C1" / "manifest.csv").open(newline="") as handle:
        channels = {row["member_id"]: row["channel"] for row in csv.DictReader(handle)}
    assert channels == {"M100": "mail", "M101": "mail"}
    assert not [m for m in messages(campaign.out_dir) if m.get("X-Coach-Kind") == "letter"]
    page = (campaign.out_dir / "report.html").read_text()
    assert "invalid email mailed 1; invalid email unreachable 1" in page


def first_asked(campaign, role: str) -> list[str]:
    return sorted(
        str(m["To"])
        for m in messages(campaign.out_dir)
        if (m.get("X-Coach-Client"), m.get("X-Coach-Role"), m.get("X-Coach-Attempt")) == ("C4", role, "0")
    )


def queued_people(campaign, role: str) -> list[int]:
    """How many people each first ask of C4's `role` was queued for (the approval_request log; counts only)."""
    found = []
    for line in (campaign.out_dir / "logs" / "functions.log").read_text(encoding="utf-8").splitlines():
        if '"approval queued for digests"' not in line:
            continue
        record = json.loads(line)
        if (record.get("client_id"), record.get("role"), record.get("kind")) == ("C4", role, "ask"):
            found.append(record["people"])
    return found


def test_two_addresses_in_one_cell_get_a_link_each_and_the_audit_names_one(campaign):
    # Each address of the cell is asked on its own. An ask still queued when a teammate's answer has reached the
    # wait is dropped, not emailed (docs/architecture.md, digests): who gets an email depends on who answers first.
    for role, people in (
        ("account_team", {"ann@c4team.example", "bob@c4team.example"}),
        ("client", {"benefits@c4.example", "hr@c4.example"}),
    ):
        assert queued_people(campaign, role) == [2]
        emailed = first_asked(campaign, role)
        assert emailed and set(emailed) <= people and len(emailed) == len(set(emailed)), emailed
    audit = json.loads((campaign.out_dir / "audit.json").read_text())["decisions"]
    c4 = [r for r in audit if r["client_id"] == "C4"]
    assert {r["action"] for r in c4} == {"approved"} and len(c4) == 2
    assert all(
        r["who"] in ("ann@c4team.example", "bob@c4team.example", "benefits@c4.example", "hr@c4.example")
        for r in c4
    )
    assert rows(campaign)["C4"]["account_team_decision"] == "approved"
