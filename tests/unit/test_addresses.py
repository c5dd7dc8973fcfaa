"""Values that reach a header: one rule to split a contact cell, email-validator for each address, and no control
or bidirectional character in a name, a subject or a report (docs/security.md)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from coach.adapters.mail import build_mime
from coach.adapters.memory import MemoryObjectStore
from coach.addresses import contact_problems, deliverable, neutralised, recipients_of, split_addresses
from coach.audience.service import build_audience
from coach.intake import plan_campaign
from coach.models import MemberRecord
from coach.ports import Email

from coach_local.claims.duckdb_engine import DuckDbClaimsEngine
from coach_local.claims.lake import LakeError, check_clients
from tests.unit.test_intake import CLARITIN
from tests.workflow.tiny_lake import CLARITIN_NDC, client, member, write_lake


@pytest.mark.parametrize(
    ("cell", "addresses"),
    [
        (["a@x.example", "b@y.example"], ["a@x.example", "b@y.example"]),
        (["a@x.example, b@y.example"], ["a@x.example", "b@y.example"]),
        (["a@x.example; b@y.example", " c@z.example "], ["a@x.example", "b@y.example", "c@z.example"]),
        ("vp@c.example", ["vp@c.example"]),
        ("vp@c.example,, ;", ["vp@c.example"]),
        (None, []),
        ([], []),
    ],
)
def test_one_rule_splits_every_contact_cell(cell, addresses):
    assert split_addresses(cell) == addresses


@pytest.mark.parametrize(
    "address",
    [
        "not-an-email",
        "a@b",
        "team@pbm.example\r\nBcc: x@evil.example",
        "x\u202e@y.example",
        "a@x.example b@y.example",
        "Ann <a@x.example>",
        "a\x00@x.example",
    ],
)
def test_an_address_that_is_no_mailbox_is_not_deliverable(address):
    assert deliverable(address) is None


def test_recipients_are_normalised_and_each_person_once():
    assert recipients_of(["Ann@PBM.example, ann@pbm.example", "bob@pbm.example", "broken"]) == [
        "ann@pbm.example",
        "bob@pbm.example",
    ]


def test_contact_problems_name_the_column_and_position_never_the_value():
    problems = contact_problems(
        "Acme\r\nBcc: x@evil.example",
        {"account_team_emails": ["ok@pbm.example, evil@x\r\n"], "escalation_email": "vp\u202e@acme.example"},
    )
    assert problems == [
        "name: holds a control character, line break or bidirectional override",
        "account_team_emails: address 2 is not a deliverable email address",
        "escalation_email: address 1 is not a deliverable email address",
    ]
    assert "evil" not in " ".join(problems)


@pytest.mark.parametrize(
    "text", ["Claritin\u202e gpj.exe", "Acme\x00Corp", "Acme\r\nBcc: x", "a\u2028b\x85c"]
)
def test_subjects_are_neutralised(text):
    message = build_mime(
        Email(to=("a@x.example",), subject=f"Decision needed: {text}", text="t", sender="s@x.example")
    )
    subject = str(message["Subject"])
    assert not any(c in subject for c in "\u202e\x00\r\n\u2028\x85")
    assert neutralised(text) in subject


def test_a_member_email_that_is_no_mailbox_means_paper():
    fields = dict(
        member_id="M1",
        client_id="C1",
        first_name="Ann\u202e",
        last_name="Lee\x00",
        address_line1="1 Main St",
        city="Springfield",
        state="IL",
        postal_code="62701",
        email="not-an-email",
        email_consent=True,
        preferred_channel="email",
        drug_name="Claritin",
        last_fill_date=date(2002, 10, 1),
    )
    record = MemberRecord.model_validate(fields)
    assert record.channel == "mail" and record.email is None
    assert (record.first_name, record.last_name) == ("Ann", "Lee ")


class LakeChangedAfterItsCheck(DuckDbClaimsEngine):
    """A lake whose check passed, then changed before the audience query read it (an extract landing mid-run): the
    lake check refuses a missing name up front, and the audience stage must still never fail on one member."""

    def lake_problems(self, announced_on):
        return []


def test_the_audience_isolates_members_with_unusable_data_and_counts_why(tmp_path):
    members = [
        member("M1", "C1", "Good", "Member"),
        member("M2", "C1", "Bad", "Email", email="nope", email_consent=True, preferred_channel="email"),
        member("M3", "C1", "Only", "Email", address_line1=None, email="x@y.example\r\n", email_consent=True),
        member("M4", "C1", None, "Nameless"),  # a field the letter needs is missing
    ]
    fills = [(m["member_id"], CLARITIN_NDC, date(2002, 10, 15), "paid") for m in members]
    lake = write_lake(tmp_path / "lake", [client("C1", "One")], members, fills)
    store = MemoryObjectStore()
    summary = build_audience(
        plan_campaign(CLARITIN).campaign,
        engine=LakeChangedAfterItsCheck(lake),
        store=store,
        data_bucket="d",
        batch_size=10,
    )
    [c1] = json.loads(store.get("d", summary.clients_key))
    assert (c1["affected"], c1["reachable"], c1["contacts_error"]) == (4, 2, None)
    assert c1["data_issues"] == {
        "invalid_email_mailed": 1,
        "invalid_email_unreachable": 1,
        "invalid_record": 1,
    }


def test_coach_run_refuses_a_client_whose_contacts_cannot_be_used(tmp_path):
    broken = client("C2", "Two")
    broken["client_contact_emails"] = ["benefits@two.example\nBcc: x@evil.example"]
    lake = write_lake(tmp_path / "lake", [client("C1", "One"), broken], [member("M1", "C1", "A", "B")], [])
    with pytest.raises(LakeError) as refused:
        check_clients(lake)
    assert str(refused.value) == (
        f"{lake / 'clients'}: client C2: client_contact_emails: address 1 is not a deliverable email address"
    )
