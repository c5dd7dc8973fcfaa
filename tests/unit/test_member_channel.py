"""The channel of each reachable member: paper needs a usable mailing address; a member reachable only by a
consented email gets the email, never a letter with an empty address block. A member row that cannot be read fails
with an error that names the batch line and field, never a value (the error reaches Step Functions and the logs)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from coach.models import MarketEvent, MemberDataError, MemberRecord, parse_member

from tests.unit.letter_batches import run_letter_batch

EVENT = MarketEvent.model_validate(
    {
        "event_id": "e1",
        "event_type": "otc_switch",
        "drug": {"name": "Claritin", "ingredient": "loratadine"},
        "effective_date": "2003-01-01",
        "announced_on": "2002-11-27",
        "summary": "OTC.",
        "alternatives": ["cetirizine"],
    }
)
ADDRESS = {"address_line1": "12 Elm St", "city": "Springfield", "state": "IL", "postal_code": "62701"}
NO_ADDRESS = {"address_line1": None, "city": None, "state": None, "postal_code": None}


def row(member_id, **overrides):
    values = {
        "member_id": member_id,
        "client_id": "C1",
        "first_name": "Canaryfirst",
        "last_name": "Canarylast",
        "drug_name": "Claritin 10 mg",
        "last_fill_date": "2002-10-01",
        **ADDRESS,
    }
    values.update(overrides)
    return values


@pytest.mark.parametrize(
    ("overrides", "channel"),
    [
        ({}, "mail"),
        ({"email": "a@mail.example", "email_consent": True}, "mail"),  # prefers mail and has an address
        ({"email": "a@mail.example", "email_consent": True, "preferred_channel": "email"}, "email"),
        ({"email": "a@mail.example", "email_consent": False, "preferred_channel": "email"}, "mail"),
        ({**NO_ADDRESS, "email": "a@mail.example", "email_consent": True}, "email"),  # email is all there is
        ({"address_line1": "  ", "email": "a@mail.example", "email_consent": True}, "email"),
        ({"state": "Illinois", "email": "a@mail.example", "email_consent": True}, "email"),
    ],
    ids=[
        "mail",
        "consent-prefers-mail",
        "prefers-email",
        "no-consent",
        "no-address",
        "blank-street",
        "bad-state",
    ],
)
def test_channel_follows_consent_preference_and_a_usable_address(overrides, channel):
    assert MemberRecord.model_validate(row("M1", **overrides)).channel == channel


def test_a_member_reachable_only_by_email_gets_an_email_not_a_blank_letter():
    members = [
        row("M1"),
        row("M2", **NO_ADDRESS, email="m2@mail.example", email_consent=True, preferred_channel="mail"),
    ]
    store, mailer, result = run_letter_batch(members, EVENT)
    assert (result.letters, result.emails) == (1, 1)
    assert [email.to for email in mailer.sent] == [("m2@mail.example",)]
    rows = {
        r["member_id"]: r
        for r in csv.DictReader(io.StringIO(store.get("letters", result.manifest_key).decode()))
    }
    assert rows["M2"]["channel"] == "email" and rows["M2"]["batch_file"] == ""
    assert rows["M1"]["channel"] == "mail" and rows["M1"]["first_page"] == "1"


@pytest.mark.parametrize(
    "overrides",
    [
        NO_ADDRESS,  # neither an address nor an email
        {**NO_ADDRESS, "email": "a@mail.example", "email_consent": False},
        {"last_fill_date": "not a date Canaryfirst"},
        {"preferred_channel": "carrier pigeon"},
    ],
    ids=["unreachable", "email-without-consent", "bad-date", "bad-channel"],
)
def test_an_unreadable_member_row_is_named_by_batch_line_and_field_without_its_values(overrides):
    line = json.dumps(row("M9", **overrides))
    with pytest.raises(MemberDataError) as caught:
        parse_member(line, "campaigns/c/audience/C1/batch-00000.jsonl line 7")
    message = str(caught.value)
    assert message.startswith("campaigns/c/audience/C1/batch-00000.jsonl line 7: member record rejected (")
    assert "Canary" not in message and "Elm" not in message and "pigeon" not in message
    assert (
        caught.value.__cause__ is None and caught.value.__context__ is not None
    )  # traceback omits the input
