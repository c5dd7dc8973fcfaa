"""Prescriber notices through the real state machine (moto), on a hand-built lake: an OTC switch where client C1
approves and C2 declines. Dr. Ana Ruiz has patients at both: her notice lists only C1's. Dr. Ben Okoye's patients
are all at C2: no notice. An invalid NPI, a prescriber without an address and a claim without an NPI are counted
in the report and `coach lake check` warns about the table's two faulty prescribers. The account team's email says
how many prescribers an approval would notify; no prescriber notice is ever emailed."""

from __future__ import annotations

import csv
import json
import subprocess
from datetime import date
from pathlib import Path

import pytest

from coach_local.claims.check import check_lake
from coach_local.inputs import load_event
from coach_local.runner import run_campaign
from tests.workflow.phi_scan import email_texts
from tests.workflow.tiny_lake import CLARITIN_NDC, client, member, prescriber, write_lake

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
RUIZ, OKOYE, NOWHERE, INVALID = "1234567893", "1245319599", "1003000126", "1234567890"
MEMBERS = [
    member("M1", "C1", "Alma", "Quintero", birth_date=date(1951, 3, 4)),
    member("M2", "C1", "Boris", "Vance"),
    member("M3", "C2", "Cleo", "Whitlock"),  # Ruiz's patient at the declining client
    member("M4", "C2", "Dmitri", "Yablonsky"),  # Okoye's, at the declining client
    member("M5", "C1", "Edda", "Zorn"),  # prescriber without an address
    member("M6", "C1", "Farid", "Ashby"),  # invalid NPI
    member("M7", "C1", "Gita", "Bhatt"),  # no NPI on the claim
]
FILLS = [
    ("M1", CLARITIN_NDC, date(2002, 9, 3), "paid", OKOYE),
    ("M1", CLARITIN_NDC, date(2002, 10, 1), "paid", RUIZ),  # the most recent claim names the prescriber
    ("M2", CLARITIN_NDC, date(2002, 10, 2), "paid", RUIZ),
    ("M3", CLARITIN_NDC, date(2002, 10, 3), "paid", RUIZ),
    ("M4", CLARITIN_NDC, date(2002, 10, 4), "paid", OKOYE),
    ("M5", CLARITIN_NDC, date(2002, 10, 5), "paid", NOWHERE),
    ("M6", CLARITIN_NDC, date(2002, 10, 6), "paid", INVALID),
    ("M7", CLARITIN_NDC, date(2002, 10, 7), "paid"),
]
PRESCRIBERS = [
    prescriber(RUIZ, "Dr. Ana Ruiz", accepts_fax=True, fax="(217) 555-0142"),
    prescriber(OKOYE, "Dr. Ben Okoye"),
    prescriber(NOWHERE, "Dr. No Where", accepts_mail=False),
    prescriber(INVALID, "Dr. Bad Digit"),
]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    base = tmp_path_factory.mktemp("rx")
    lake = write_lake(base / "lake", [client("C1", "One"), client("C2", "Two")], MEMBERS, FILLS, PRESCRIBERS)
    result = run_campaign(
        load_event(ROOT / "coach_local/events/claritin_otc.json"),
        lake,
        base / "out",
        decisions={"C2": {"client": "decline"}},
        timeout=240,
        time_scale=1 / 86_400,
    )
    assert result.status == "SUCCEEDED", result.error
    return lake, base / "out"


def test_one_notice_for_the_prescriber_of_the_approving_clients_patients(run):
    _, out = run
    [manifest] = (out / "prescriber-notices").glob("*.manifest.csv")
    rows = list(csv.DictReader(manifest.open()))
    assert [(r["npi"], r["channel"], r["fax"], r["patients"]) for r in rows] == [
        (RUIZ, "fax", "2175550142", "2")
    ]
    pdf = manifest.with_name(rows[0]["batch_file"])
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    assert "Dr. Ana Ruiz" in text
    assert "Quintero, Alma, born March 4, 1951" in text and "Vance, Boris" in text
    for other in ("Whitlock", "Yablonsky", "Zorn", "Ashby", "Bhatt"):
        assert other not in text


def test_the_report_counts_who_could_not_be_told(run):
    _, out = run
    report = json.loads((out / "report.json").read_text())
    rx = report["prescribers"]
    assert (rx["told"], rx["notified"], rx["patients_listed"]) == (True, 1, 2)
    assert rx["not_notified"]["invalid_npi"] == {"prescribers": 1, "patients": 1}
    assert rx["not_notified"]["no_address"] == {"prescribers": 1, "patients": 1}
    assert rx["not_notified"]["no_npi"] == {"prescribers": 0, "patients": 1}
    per_client = {c["client_id"]: c["prescribers_notified"] for c in report["clients"]}
    assert per_client == {"C1": 1, "C2": 0}
    assert 'id="prescribers"' in (out / "report.html").read_text()


def test_the_lake_check_warns_about_the_invalid_npi_and_the_prescriber_without_an_address(run):
    lake, _ = run
    lines = [p.line() for p in check_lake(lake).warnings]
    assert any("1 row: an invalid NPI" in line for line in lines), lines
    assert any("1 row: a prescriber without a usable address" in line for line in lines), lines


def test_the_account_teams_email_says_how_many_prescribers_an_approval_would_notify(run):
    _, out = run
    said = {}
    for path in (out / "outbox").glob("*.eml"):
        message, texts = email_texts(path.read_bytes())
        body = " ".join(text for _, text in texts)
        assert "Quintero" not in body and "Ruiz" not in body  # no prescriber notice, no patient, by email
        if "_account_team_0_" in path.name:
            client_id = path.name.split("_account_team_")[0].rsplit("_", 1)[1]
            said[client_id] = (
                "Prescribers told:  1 " in body if client_id == "C1" else "Prescribers told:  2 " in body
            )
    assert said == {"C1": True, "C2": True}
