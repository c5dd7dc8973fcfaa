"""Ports the domain talks to; adapters (coach.adapters) implement them for AWS and for tests."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol


class NotFound(KeyError):
    """An object or record that does not exist."""


class ObjectStore(Protocol):
    """S3-shaped object storage (buckets named per call)."""

    def put(
        self, bucket: str, key: str, body: bytes, content_type: str = "application/octet-stream"
    ) -> None: ...

    def get(self, bucket: str, key: str) -> bytes: ...

    def exists(self, bucket: str, key: str) -> bool: ...

    def list_keys(self, bucket: str, prefix: str) -> Iterator[str]: ...

    def put_stream(
        self, bucket: str, key: str, chunks: Iterable[bytes], content_type: str = "application/octet-stream"
    ) -> int:
        """Write one object from chunks without holding it whole (S3: a multipart upload); returns its size."""
        ...


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str = "application/pdf"


@dataclass(frozen=True)
class Email:
    to: tuple[str, ...]
    subject: str
    text: str
    html: str | None = None
    sender: str = ""
    # Stable id: a retry with the same key sends nothing new (DESIGN.md §6).
    idempotency_key: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    attachments: tuple[Attachment, ...] = ()


class Mailer(Protocol):
    def send(self, email: Email) -> str:
        """Send and return the provider's message id."""
        ...


class WorkflowCallbacks(Protocol):
    """Step Functions' task-token callbacks."""

    def succeed(self, task_token: str, output: dict) -> None: ...

    def fail(self, task_token: str, error: str, cause: str) -> None: ...
