"""PHI stays where it must: a campaign over members whose every PHI field holds a unique canary leaves no canary in
the execution history, the function logs, the emails to account teams, clients, escalation contacts and operators,
report.json or audit.json. Only the letters (PDFs, manifests) and a member's own email may carry them."""

from __future__ import annotations

import email
import email.policy
from datetime import date
from pathlib import Path

import pytest

from coach_local.runner import load_event, run_campaign
from tests.workflow.tiny_lake import CLARITIN_NDC, client, member, write_lake

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
FIELDS = ("first_name", "last_name", "address_line1", "address_line2", "city", "postal_code", "email")


def canary(field: str, index: int) -> str:
    return f"Qz{field.replace('_', '')[:6]}{index:03d}Xq"


def canary_member(index: int, client_id: str, **extra) -> dict:
    values = {field: canary(field, index) for field in FIELDS}
    values["email"] = f"{canary('email', index).lower()}@mail.example"
    return member(
        f"M{index:03d}",
        client_id,
        values["first_name"],
        values["last_name"],
        address_line1=values["address_line1"],
        address_line2=values["address_line2"],
        city=values["city"],
        postal_code=values["postal_code"],
        email=values["email"],
        **extra,
    )


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    base = tmp_path_factory.mktemp("phi")
    members = [
        canary_member(
            i,
            "C1" if i % 2 else "C2",
            email_consent=i % 3 == 0,
            preferred_channel="email" if i % 3 == 0 else "mail",
        )
        for i in range(12)
    ]
    members.append(canary_member(99, "C3", deceased=True))
    lake = write_lake(
        base / "lake",
        [client("C1", "One"), client("C2", "Two"), client("C3", "Three")],
        members,
        [(m["member_id"], CLARITIN_NDC, date(2002, 10, 1), "paid") for m in members],
    )
    decisions = {"C3": {"account_team": "none"}}  # reminders, escalation and no_response too
    result = run_campaign(
        load_event(ROOT / "coach_local/events/claritin_otc.json"),
        lake,
        base / "out",
        decisions=decisions,
        timeout=240,
        time_scale=1 / 86_400,
    )
    canaries = {value for m in members for field in FIELDS if (value := str(m[field]))}
    return result, canaries


def hits(text: str, canaries: set[str]) -> set[str]:
    lowered = text.lower()
    return {c for c in canaries if c.lower() in lowered}


def test_campaign_ran_every_kind_of_email(campaign):
    result, _ = campaign
    assert result.status == "SUCCEEDED", result.error
    kinds = {
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default).get("X-Coach-Kind")
        for p in (result.out_dir / "outbox").glob("*.eml")
    }
    assert {"approval", "letter"} <= kinds


def test_no_canary_outside_letters_and_members_own_emails(campaign):
    result, canaries = campaign
    # what people and scripts read about a campaign is among the files scanned below
    for name in (
        "report.json",
        "report.html",
        "audit.json",
        "status.json",
        "logs/functions.log",
        "logs/execution-history.json",
    ):
        assert (result.out_dir / name).is_file(), name
    leaks: dict[str, set[str]] = {}
    for path in result.out_dir.rglob("*"):
        if not path.is_file() or "letters" in path.relative_to(result.out_dir).parts:
            continue
        if path.suffix == ".eml":
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if message.get("X-Coach-Kind") == "letter":
                continue  # the member's own letter, to the member's own address
        found = hits(path.read_text(errors="ignore"), canaries)
        if found:
            leaks[str(path.relative_to(result.out_dir))] = found
    assert leaks == {}


def test_the_letters_do_carry_the_members_data(campaign):
    result, canaries = campaign
    manifests = "".join(p.read_text() for p in (result.out_dir / "letters").rglob("manifest.csv"))
    assert len(hits(manifests, canaries)) > 20  # the canaries were real, and reached the print vendor's file


def test_a_failed_campaign_alerts_the_operator_without_member_data(tmp_path):
    members = [canary_member(i, "C1") for i in range(4)]
    lake = write_lake(
        tmp_path / "lake",
        [client("C1", "One", {"otc_switch": "always"})],
        members,
        [(m["member_id"], CLARITIN_NDC, date(2002, 10, 1), "paid") for m in members],
    )

    def printer_down(event):
        raise OSError("simulated: the letters bucket refused the write")

    result = run_campaign(
        load_event(ROOT / "coach_local/events/claritin_otc.json"),
        lake,
        tmp_path / "out",
        timeout=240,
        time_scale=1 / 86_400,
        faults={"letters": printer_down},
    )
    assert result.status == "FAILED"
    canaries = {value for m in members for field in FIELDS if (value := str(m[field]))}
    alerts = [
        p
        for p in (result.out_dir / "outbox").glob("*.eml")
        if email.message_from_bytes(p.read_bytes(), policy=email.policy.default)["X-Coach-Kind"]
        == "operator_alert"
    ]
    assert len(alerts) == 1
    leaks = {
        str(p.relative_to(result.out_dir)): found
        for p in result.out_dir.rglob("*")
        if p.is_file()
        and "letters" not in p.relative_to(result.out_dir).parts
        and (found := hits(p.read_text(errors="ignore"), canaries))
    }
    assert leaks == {}
