"""Who tells prescribers: the playbooks' policies, and which clients' patients go on the notices."""

from __future__ import annotations

import pytest
from coach.models import ClientOutcome, MarketEvent
from coach.playbooks import load_playbook
from coach.prescribers.policy import PrescriberPolicy

BASE = {
    "event_id": "e",
    "drug": {"name": "Samplezol", "ingredient": "samplezole"},
    "effective_date": "2003-01-01",
    "announced_on": "2002-11-27",
    "summary": "s",
}


def event(event_type: str, recall_class: str | None = None) -> MarketEvent:
    return MarketEvent.model_validate({**BASE, "event_type": event_type, "recall_class": recall_class})


def outcome(team: str, client: str, label: str) -> ClientOutcome:
    return ClientOutcome.model_validate(
        {
            "client_id": "C1",
            "client_name": "One",
            "election": "ask",
            "affected": 3,
            "reachable": 3,
            "account_team_decision": team,
            "client_decision": client,
            "outcome": label,
        }
    )


@pytest.mark.parametrize(
    ("event_type", "recall_class", "told"),
    [
        ("recall", "I", True),
        ("recall", "II", True),
        ("recall", "III", False),
        ("otc_switch", None, True),
        ("formulary_change", None, True),
        ("patent_expiry", None, False),
        ("generic_launch", None, False),
        ("new_drug", None, False),
    ],
)
def test_the_playbooks_say_which_events_tell_prescribers(event_type, recall_class, told):
    policy = load_playbook(event_type).prescribers
    assert policy.applies_to(event(event_type, recall_class)) is told


def test_a_recall_tells_prescribers_of_every_client_it_reached_even_unasked():
    policy = load_playbook("recall").prescribers
    assert policy.includes(outcome("not_asked", "not_asked", "letters_sent"))  # class I: mandatory
    assert policy.includes(outcome("approved", "approved", "letters_sent"))
    assert not policy.includes(outcome("approved", "declined", "declined_by_client"))
    assert not policy.includes(outcome("no_response", "not_asked", "no_response_account_team"))


def test_an_otc_switch_tells_prescribers_only_of_clients_that_said_yes_themselves():
    policy = load_playbook("otc_switch").prescribers
    assert policy.includes(outcome("approved", "approved", "letters_sent"))
    assert policy.includes(outcome("approved", "auto", "letters_sent"))  # a standing `always` election
    assert not policy.includes(outcome("approved", "not_asked", "letters_sent"))  # the account team alone
    assert not policy.includes(outcome("approved", "declined", "declined_by_client"))
    assert not policy.includes(outcome("not_asked", "auto", "election_never"))


def test_sensitive_classes_stay_off_notices_unless_the_playbook_allows_them():
    assert load_playbook("otc_switch").prescribers.allowed_sensitive_classes == []
    assert "hiv" in load_playbook("recall").prescribers.allowed_sensitive_classes
    assert PrescriberPolicy().notify == "never"  # a playbook without the setting tells nobody
