"""SES delivers: every message moto's SES accepts is handed, as sent, to whoever reads mail locally (the approver,
a person's terminal), in the sending thread, so a reader knows of an email the moment it exists. No folder is
listed over and over; OUT/outbox still holds every message for people to open."""

from __future__ import annotations

import email.parser
import email.policy
import re
import threading
from collections.abc import Callable
from typing import Any

from moto.ses.models import SESBackend

Reader = Callable[[bytes], None]

_original_send_raw_email = SESBackend.send_raw_email


class Mailboxes:
    def __init__(self) -> None:
        self._readers: list[Reader] = []
        self._lock = threading.Lock()

    def subscribe(self, reader: Reader) -> Callable[[], None]:
        """`reader(raw)` for every later send; returns the unsubscribe."""
        with self._lock:
            self._readers.append(reader)

        def unsubscribe() -> None:
            with self._lock:
                if reader in self._readers:
                    self._readers.remove(reader)

        return unsubscribe

    def deliver(self, raw: bytes) -> None:
        with self._lock:
            readers = list(self._readers)
        for reader in readers:
            reader(raw)

    def install(self) -> None:
        mailboxes = self

        def send_raw_email(backend: SESBackend, source: str, destinations: list[str], raw_data: str) -> Any:
            message = _original_send_raw_email(backend, source, destinations, raw_data)
            mailboxes.deliver(raw_data.encode("utf-8") if isinstance(raw_data, str) else raw_data)
            return message

        SESBackend.send_raw_email = send_raw_email  # type: ignore[method-assign,assignment]

    def uninstall(self) -> None:
        SESBackend.send_raw_email = _original_send_raw_email  # type: ignore[method-assign]


_KIND = re.compile(rb"^X-Coach-Kind:[ \t]*([A-Za-z0-9_.-]+)[ \t]*\r?$", re.IGNORECASE | re.MULTILINE)
_HEADERS_END = re.compile(rb"\r?\n\r?\n")


def email_kind(raw: bytes) -> str | None:
    """The X-Coach-Kind of a raw message, read from its header block without parsing it: every reader sees every
    message (each letter email too), and parsing headers with the email package was 5% of a 400-client run. None
    when the header is absent or not on one line (the readers then parse the headers as before)."""
    end = _HEADERS_END.search(raw)
    found = _KIND.search(raw, 0, end.start() if end else len(raw))
    return found.group(1).decode() if found else None


def is_kind(raw: bytes, kind: str) -> bool:
    found = email_kind(raw)
    if found is None:  # no one-line header: the email package decides
        parsed = email.parser.BytesHeaderParser(policy=email.policy.default).parsebytes(raw)
        header = parsed.get("X-Coach-Kind")
        found = str(header).strip() if header is not None else None
    return found == kind
