"""The outcome emails: the account team sees exact counts and rates; the client's version follows the small-cell rule
(1 to 10 reads "fewer than 11", with no rate and no difference that would give it away)."""

from __future__ import annotations

import json

from coach.adapters.memory import MemoryMailer, MemoryObjectStore
from coach.models import MarketEvent
from coach.outcomes.notices import send_outcome_emails
from coach.outcomes.results import add_up, summarise

EVENT = MarketEvent.model_validate(
    {
        "event_id": "e1",
        "event_type": "otc_switch",
        "drug": {"name": "Claritin", "ingredient": "loratadine"},
        "effective_date": "2003-01-01",
        "announced_on": "2002-11-27",
        "summary": "Loratadine moves over the counter.",
        "alternatives": ["cetirizine"],
    }
)


def outcomes() -> dict:
    rows = [
        {"client_id": "C1", "held_out": False, "members": 93, "switched": 35, "refilled": 27, "no_fill": 31},
        {"client_id": "C1", "held_out": True, "members": 26, "switched": 3, "refilled": 14, "no_fill": 9},
    ]
    entry = summarise({"client_id": "C1", "client_name": "Acme"}, rows)
    return {
        "holdout_share": 0.2,
        "follow_up_days": 90,
        "window": {"first_day": "2002-11-28", "last_day": "2003-02-25"},
        "clients": [entry],
        "totals": add_up([entry]),
    }


def sent() -> dict[str, str]:
    store, mailer = MemoryObjectStore(), MemoryMailer()
    contacts = {"account_team_emails": ["lead@pbm.example"], "client_contact_emails": ["hr@acme.example"]}
    store.put(
        "data", "campaigns/camp/audience/C1/contacts.json", json.dumps(contacts).encode(), "application/json"
    )
    count = send_outcome_emails(
        outcomes(),
        EVENT,
        campaign_id="camp",
        mailer=mailer,
        store=store,
        data_bucket="data",
        sender="p@pbm.example",
    )
    assert count == 2
    return {email.to[0]: email.text for email in mailer.sent}


def test_the_account_team_sees_exact_counts_rates_and_differences():
    text = sent()["lead@pbm.example"]
    assert "held out  3 (11.5%)" in text and "held out  9 (34.6%)" in text
    assert "lettered  35 (37.6%)" in text
    assert text.count("difference") == 3 and "95% interval" in text
    assert "holdout of 20%" in text


def test_the_client_sees_fewer_than_11_without_a_rate_or_a_difference_that_would_give_it_away():
    text = sent()["hr@acme.example"]
    lines = text.splitlines()
    assert "    held out  fewer than 11" in lines  # switched: 3 held-out members
    assert "3 (" not in text and "11.5%" not in text and "(34.6%)" not in text
    assert "held out  14 (53.8%)" in text  # 11 or more: shown
    # the differences of the outcomes with a hidden count are not shown (lettered rate + difference = held-out rate)
    assert text.count("difference") == 1
    assert "Members held out:   26" in text
