"""SES delivers: every message moto's SES accepts is handed, as sent, to whoever reads mail locally (the approver,
a person's terminal), in the sending thread, so a reader knows of an email the moment it exists. No folder is
listed over and over; OUT/outbox still holds every message for people to open."""

from __future__ import annotations

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
