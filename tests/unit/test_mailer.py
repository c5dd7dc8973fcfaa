"""The SES mailer: one send per idempotency key, and SES throttling raised under the name the state machine retries."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from coach.adapters import aws
from coach.adapters.dynamodb import table_definition
from coach.adapters.mail import SesMailer, Throttling
from coach.ports import Email

TABLE = "ledger"


@pytest.fixture
def ses(mocked_aws):
    boto3.client("ses").verify_email_identity(EmailAddress="coach@plan.example")
    boto3.client("dynamodb").create_table(**table_definition(TABLE))
    return aws.client("ses")


def email(key: str = "campaign-1/notice/C1") -> Email:
    return Email(
        sender="coach@plan.example",
        to=("team@plan.example",),
        subject="A campaign needs your decision",
        text="3 members",
        idempotency_key=key,
    )


def ledger_items() -> int:
    return boto3.client("dynamodb").scan(TableName=TABLE)["Count"]


def test_the_same_key_sends_once(ses, tmp_path):
    mailer = SesMailer(ledger_table=TABLE, outbox_dir=str(tmp_path))
    first = mailer.send(email())
    assert mailer.send(email()) == "duplicate-suppressed" and first != "duplicate-suppressed"
    assert len(list(tmp_path.glob("*.eml"))) == 1


@pytest.mark.parametrize("code", ["Throttling", "ThrottlingException", "TooManyRequestsException"])
def test_ses_throttling_raises_throttling_and_frees_the_key_for_the_retry(ses, monkeypatch, code):
    def refuse(**kwargs):
        raise ClientError(
            {"Error": {"Code": code, "Message": "Maximum sending rate exceeded."}}, "SendRawEmail"
        )

    monkeypatch.setattr(ses, "send_raw_email", refuse)
    mailer = SesMailer(ledger_table=TABLE)
    with pytest.raises(Throttling, match="Maximum sending rate exceeded") as raised:
        mailer.send(email())
    assert type(raised.value).__name__ == "Throttling"  # Lambda's errorType: the name the ASL's Retry matches
    assert ledger_items() == 0  # the retry may send it


def test_a_rejected_message_is_not_disguised_as_throttling(ses, monkeypatch):
    def reject(**kwargs):
        raise ClientError(
            {"Error": {"Code": "MessageRejected", "Message": "Email address is not verified."}},
            "SendRawEmail",
        )

    monkeypatch.setattr(ses, "send_raw_email", reject)
    with pytest.raises(ClientError) as raised:
        SesMailer(ledger_table=TABLE).send(email())
    assert raised.value.response["Error"]["Code"] == "MessageRejected"
    assert ledger_items() == 0


def test_the_outbox_never_shows_half_a_message(ses, tmp_path, monkeypatch):
    """The local approver polls the outbox: a message must appear whole (a half-written one was read as "no link",
    never read again, and its question never answered: a campaign waited for ever under load)."""
    from pathlib import Path

    written: list[str] = []
    original = Path.write_bytes

    def spy(self, data):
        written.append(self.name)
        return original(self, data)

    monkeypatch.setattr(Path, "write_bytes", spy)
    mailer = SesMailer(ledger_table=TABLE, outbox_dir=str(tmp_path))
    mailer.send(email())
    [message] = tmp_path.glob("*.eml")
    assert message.name not in written  # appeared by rename, complete
    assert not [p for p in tmp_path.iterdir() if p.suffix != ".eml"]
    assert message.read_bytes().rstrip().endswith(b"3 members")
