"""Operator alerts name the stage, the client branch and the error (ids and counts only), and a client whose
contacts cannot be used is reported by id and column, never by value."""

from __future__ import annotations

import json

from coach import keys
from coach.adapters.memory import MemoryMailer, MemoryObjectStore
from coach.models import ClientWork, Notice
from coach.notices import send_notice

CAMPAIGN = "cmp-7"


def work(client_id: str, contacts_error: str | None = None) -> ClientWork:
    return ClientWork(
        client_id=client_id,
        client_name="Broken\r\nName",
        affected=4,
        reachable=3,
        election="ask",
        batches_key="b",
        batch_count=1,
        contacts_key="c",
        contacts_error=contacts_error,
    )


def alert(objects: MemoryObjectStore) -> str:
    mailer = MemoryMailer()
    notice = Notice(
        campaign_id=CAMPAIGN, kind="operator_alert", stage="client branch: letters", error="RuntimeError"
    )
    assert (
        send_notice(
            notice,
            mailer=mailer,
            objects=objects,
            data_bucket="d",
            sender="s@x.example",
            operator_email="ops@x.example",
        )
        == 1
    )
    return mailer.sent[0].text


def test_the_alert_names_the_client_branches_that_had_not_finished():
    objects = MemoryObjectStore()
    clients = [work(c).model_dump(mode="json") for c in ("C1", "C2", "C3")]
    objects.put("d", keys.clients_key(CAMPAIGN), json.dumps(clients).encode())
    objects.put("d", keys.outcome_key(CAMPAIGN, "C1"), b"{}")
    text = alert(objects)
    assert "at the client branch: letters stage with error RuntimeError" in text
    assert (
        "Client branches without an outcome when it stopped (2 of 3; the failed branch is among them): C2, C3."
        in text
    )


def test_an_alert_before_the_audience_listed_clients_still_goes_out():
    assert "Client branches" not in alert(MemoryObjectStore())


def test_the_invalid_contacts_alert_names_client_and_columns_not_values():
    mailer = MemoryMailer()
    client = work("C9", "name: holds a control character, line break or bidirectional override")
    notice = Notice(campaign_id=CAMPAIGN, kind="invalid_contacts", client=client)
    sent = send_notice(
        notice,
        mailer=mailer,
        objects=MemoryObjectStore(),
        data_bucket="d",
        sender="s@x.example",
        operator_email="ops@x.example",
    )
    [email] = mailer.sent
    assert sent == 1 and email.to == ("ops@x.example",)
    assert email.subject == f"Campaign {CAMPAIGN}: client C9 skipped, its contacts cannot be used"
    assert "name: holds a control character" in email.text and "Broken" not in email.text
