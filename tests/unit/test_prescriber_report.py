"""The report's prescriber counts: report.json per client and in all, and the page's Prescribers section."""

from __future__ import annotations

import json

from coach.adapters.memory import MemoryObjectStore
from coach.prescribers.plan import summary_key
from coach.prescribers.report import add_prescribers

from coach_local.report_html import render_report

SUMMARY = {
    "told": True,
    "policy": "when_client_approves",
    "clients_included": ["C1"],
    "notices": 3,
    "patients_listed": 5,
    "not_notified": {
        "no_npi": {"prescribers": 0, "patients": 1},
        "invalid_npi": {"prescribers": 2, "patients": 2},
        "unknown_npi": {"prescribers": 1, "patients": 1},
        "no_address": {"prescribers": 4, "patients": 6},
    },
    "clients": {"C1": {"prescribers_notified": 3, "patients_listed": 5, "prescribers_invalid_npi": 2}},
}


def report() -> dict:
    row = {
        "client_id": "C1",
        "client_name": "One",
        "election": "ask",
        "affected": 9,
        "reachable": 8,
        "account_team_decision": "approved",
        "client_decision": "approved",
        "letters": 8,
        "mailed": 8,
        "emailed": 0,
        "outcome": "letters_sent",
        "data_issues": {},
    }
    other = {**row, "client_id": "C2", "client_name": "Two", "client_decision": "declined"}
    totals = {"affected": 18, "reachable": 16, "letters": 8, "mailed": 8, "emailed": 0}
    return {
        "campaign_id": "c",
        "event_id": "e",
        "event_type": "otc_switch",
        "drug": "Claritin",
        "status": "succeeded",
        "clients": [row, other],
        "totals": totals,
        "approvals": [],
    }


def test_report_json_counts_prescribers_per_client_and_those_not_notified_by_reason():
    store = MemoryObjectStore()
    store.put("data", summary_key("c"), json.dumps(SUMMARY).encode())
    built = report()
    add_prescribers(built, store, "data", "c")
    assert [(c["client_id"], c["prescribers_notified"]) for c in built["clients"]] == [("C1", 3), ("C2", 0)]
    assert built["prescribers"]["notified"] == 3
    assert built["prescribers"]["not_notified"]["invalid_npi"] == {"prescribers": 2, "patients": 2}
    assert built["prescribers"]["not_notified"]["no_address"] == {"prescribers": 4, "patients": 6}


def test_a_campaign_without_a_prescribers_stage_reports_nobody_told():
    built = report()
    add_prescribers(built, MemoryObjectStore(), "data", "c")
    assert built["prescribers"]["told"] is False and built["prescribers"]["notified"] == 0


def test_the_page_shows_prescribers_notified_per_client_and_why_others_were_not():
    store = MemoryObjectStore()
    store.put("data", summary_key("c"), json.dumps(SUMMARY).encode())
    built = report()
    add_prescribers(built, store, "data", "c")
    page = render_report(built)
    section = page.split('<section id="prescribers">', 1)[1].split("</section>", 1)[0]
    assert "Prescribers notified<b>3</b>" in section
    assert 'NPI fails its check digit</td>\n<td class="n">2</td>' in section
    assert 'no usable fax or practice address</td>\n<td class="n">4</td>' in section
    assert 'C1 One</td><td class="n">3</td>' in section and 'C2 Two</td><td class="n">0</td>' in section
