"""In-memory adapters for unit tests."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from coach.ports import Email, NotFound


class MemoryObjectStore:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}

    def put(self, bucket: str, key: str, body: bytes, content_type: str = "application/octet-stream") -> None:
        self.objects[(bucket, key)] = bytes(body)

    def get(self, bucket: str, key: str) -> bytes:
        try:
            return self.objects[(bucket, key)]
        except KeyError as exc:
            raise NotFound(f"s3://{bucket}/{key}") from exc

    def exists(self, bucket: str, key: str) -> bool:
        return (bucket, key) in self.objects

    def list_keys(self, bucket: str, prefix: str) -> Iterator[str]:
        yield from sorted(k for b, k in self.objects if b == bucket and k.startswith(prefix))

    def put_stream(
        self, bucket: str, key: str, chunks: Iterable[bytes], content_type: str = "application/octet-stream"
    ) -> int:
        body = b"".join(chunks)
        self.objects[(bucket, key)] = body
        return len(body)


class MemoryMailer:
    def __init__(self) -> None:
        self.sent: list[Email] = []
        self._by_key: dict[str, str] = {}

    def send(self, email: Email) -> str:
        if email.idempotency_key and email.idempotency_key in self._by_key:
            return self._by_key[email.idempotency_key]
        message_id = f"mem-{len(self.sent)}"
        self.sent.append(email)
        if email.idempotency_key:
            self._by_key[email.idempotency_key] = message_id
        return message_id


class MemoryCallbacks:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, object]] = []

    def succeed(self, task_token: str, output: dict) -> None:
        self.calls.append(("success", task_token, output))

    def fail(self, task_token: str, error: str, cause: str) -> None:
        self.calls.append(("failure", task_token, {"error": error, "cause": cause}))
