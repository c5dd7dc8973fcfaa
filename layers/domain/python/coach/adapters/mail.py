"""SES mailer: MIME built with the standard library, idempotent by key, optionally mirrored to an outbox folder."""

from __future__ import annotations

import os
import re
import threading
import time
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from botocore.exceptions import ClientError

from coach.adapters.aws import client
from coach.addresses import neutralised
from coach.ports import Email

THROTTLING_CODES = frozenset({"Throttling", "ThrottlingException", "TooManyRequestsException"})


class Throttling(Exception):  # the error name the ASL's Retry matches (Lambda reports the class name)
    """SES refused a send for the account's sending rate: transient, retried with backoff by the state machine."""


def as_raised(exc: ClientError) -> Exception:
    """What a send raises for SES's error: throttling becomes `Throttling` (the ASL retries that name, and not
    AccessDenied or MessageRejected, which are not transient); anything else stays as it is."""
    error = exc.response.get("Error", {})
    if error.get("Code") in THROTTLING_CODES:
        return Throttling(f"SES {error.get('Code')}: {error.get('Message', '')}")
    return exc


def build_mime(email: Email) -> EmailMessage:
    message = EmailMessage()
    message["From"] = email.sender
    message["To"] = ", ".join(email.to)
    message["Subject"] = neutralised(email.subject)  # no control or bidi character reaches a subject line
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="automated-pharmacist.local")
    for name, value in email.tags.items():
        # Routing labels (kind, campaign, client, role): ids only, never member data.
        message[f"X-Coach-{name.replace('_', '-').title()}"] = value
    message.set_content(email.text)
    if email.html is not None:
        message.add_alternative(email.html, subtype="html")
    for attachment in email.attachments:
        maintype, _, subtype = attachment.mime_type.partition("/")
        message.add_attachment(
            attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    return message


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[:120] or "message"


class SesMailer:
    """Sends through SES. With a ledger table, a key that was already sent sends nothing (docs/architecture.md, decision 6)."""

    def __init__(
        self,
        ledger_table: str | None = None,
        outbox_dir: str | None = None,
        configuration_set: str | None = None,
    ) -> None:
        self._ledger_table = ledger_table
        self._outbox = Path(outbox_dir) if outbox_dir else None
        self._configuration_set = configuration_set

    def _claim(self, key: str) -> bool:
        """True when this process is the first to send `key`."""
        if not (self._ledger_table and key):
            return True
        try:
            client("dynamodb").put_item(
                TableName=self._ledger_table,
                Item={
                    "pk": {"S": f"email#{key}"},
                    "sk": {"S": "email"},
                    "sent_at": {"N": str(int(time.time()))},
                    "ttl": {"N": str(int(time.time()) + 400 * 86_400)},
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
            return True
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise

    def _release(self, key: str) -> None:
        if self._ledger_table and key:
            client("dynamodb").delete_item(
                TableName=self._ledger_table, Key={"pk": {"S": f"email#{key}"}, "sk": {"S": "email"}}
            )

    def send(self, email: Email) -> str:
        if not self._claim(email.idempotency_key):
            return "duplicate-suppressed"
        message = build_mime(email)
        raw = message.as_bytes()
        kwargs: dict = {"Source": email.sender, "Destinations": list(email.to), "RawMessage": {"Data": raw}}
        if self._configuration_set:
            kwargs["ConfigurationSetName"] = self._configuration_set
        if email.tags:
            kwargs["Tags"] = [{"Name": k, "Value": _safe_name(v)} for k, v in email.tags.items()]
        try:
            message_id = client("ses").send_raw_email(**kwargs)["MessageId"]
        except ClientError as exc:
            self._release(email.idempotency_key)  # a failed send may be retried
            raised = as_raised(exc)
            if raised is exc:
                raise
            raise raised from exc
        except Exception:
            self._release(email.idempotency_key)
            raise
        if self._outbox is not None:
            self._outbox.mkdir(parents=True, exist_ok=True)
            stem = _safe_name(email.idempotency_key or message_id)
            # Whole or not at all: whoever watches the outbox (the local approver, a person) never reads half a
            # message. Written beside it, then renamed (atomic on one file system).
            partial = self._outbox / f".{stem}.{os.getpid()}.{threading.get_ident()}.part"
            partial.write_bytes(raw)
            os.replace(partial, self._outbox / f"{stem}.eml")
        return str(message_id)
