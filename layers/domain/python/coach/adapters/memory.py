"""In-memory adapters: the ports with the same semantics as their AWS adapters, for unit tests."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from coach.approvals.delegation import Delegation
from coach.approvals.digest_records import DigestRecord, QueuedAsk
from coach.approvals.records import (
    AuditRecord,
    DecisionRecord,
    Delivery,
    LinkRecord,
    LinkState,
    OpenLink,
    decision_key,
    link_key,
    question_prefix,
    reopenable,
)
from coach.ports import Email, NotFound


class MemoryObjectStore:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}

    def put(self, bucket: str, key: str, body: bytes, content_type: str = "application/octet-stream") -> None:
        self.objects[(bucket, key)] = bytes(body)

    def put_new(
        self, bucket: str, key: str, body: bytes, content_type: str = "application/octet-stream"
    ) -> bool:
        if (bucket, key) in self.objects:
            return False
        self.objects[(bucket, key)] = bytes(body)
        return True

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


class MemoryApprovalStore:
    """Same semantics as DynamoDB's conditional writes, behind one lock."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self._lock = threading.RLock()

    def put_link(self, link: LinkRecord) -> None:
        with self._lock:
            self.items[link_key(link.link_hash)] = link.model_dump()
            self.items[(f"group#{link.group}", f"link#{link.link_hash}")] = {}

    def get_link(self, link_hash: str) -> LinkRecord | None:
        item = self.items.get(link_key(link_hash))
        return LinkRecord.model_validate(item) if item else None

    def group_links(self, group: str) -> list[LinkRecord]:
        hashes = [sk.removeprefix("link#") for (pk, sk) in list(self.items) if pk == f"group#{group}"]
        return [link for h in hashes if (link := self.get_link(h))]

    def groups_links(self, groups: Sequence[str]) -> dict[str, list[LinkRecord]]:
        return {group: self.group_links(group) for group in dict.fromkeys(groups)}

    def supersede(self, link_hash: str) -> bool:
        return self._end_pending(link_hash, "superseded")

    def close_link(self, link_hash: str) -> bool:
        return self._end_pending(link_hash, "closed")

    def _end_pending(self, link_hash: str, state: LinkState) -> bool:
        with self._lock:
            item = self.items.get(link_key(link_hash))
            if not item or item["state"] != "pending":
                return False
            item["state"] = state
            return True

    def set_link_state(self, link_hash: str, state: LinkState) -> None:
        with self._lock:
            if item := self.items.get(link_key(link_hash)):
                item["state"] = state

    def retarget(self, link_hash: str, task_token: str) -> bool:
        with self._lock:
            item = self.items.get(link_key(link_hash))
            if not item or item["state"] != "pending":
                return False
            item["task_token"] = task_token
            return True

    def open_links(self) -> list[OpenLink]:
        with self._lock:
            return [
                OpenLink.of(item)
                for (pk, _), item in self.items.items()
                if pk.startswith("link#") and item.get("state") == "pending"
            ]

    def claim_decision(self, decision: DecisionRecord) -> bool:
        with self._lock:
            if decision_key(decision.group) in self.items:
                return False
            self.items[decision_key(decision.group)] = decision.model_dump()
            return True

    def get_decision(self, group: str) -> DecisionRecord | None:
        item = self.items.get(decision_key(group))
        return DecisionRecord.model_validate(item) if item else None

    def decisions(self, groups: Sequence[str]) -> dict[str, DecisionRecord]:
        return {group: decision for group in groups if (decision := self.get_decision(group)) is not None}

    def set_delivery(self, decision: DecisionRecord, delivery: Delivery) -> bool:
        with self._lock:
            item = self.items.get(decision_key(decision.group))
            if not item or item["link_hash"] != decision.link_hash or item["delivery"] != "pending":
                return False
            item["delivery"] = delivery
            return True

    def reopen(self, group: str, task_token: str) -> bool:
        with self._lock:
            if not reopenable(self.get_decision(group), task_token):
                return False
            del self.items[decision_key(group)]
            return True

    def append_audit(self, record: AuditRecord) -> bool:
        with self._lock:
            key = (f"audit#{record.campaign_id}", record.table_key)
            if key in self.items:
                return False
            self.items[key] = record.model_dump()
            return True

    def audit(self, campaign_id: str) -> list[AuditRecord]:
        return self._audit(campaign_id, "")

    def question_audit(self, campaign_id: str, client_id: str, role: str) -> list[AuditRecord]:
        records = self._audit(campaign_id, question_prefix(client_id, role))
        return [r for r in records if r.client_id == client_id and r.role == role]

    def _audit(self, campaign_id: str, sk_prefix: str) -> list[AuditRecord]:
        records = [
            AuditRecord.model_validate(item)
            for (pk, sk), item in list(self.items.items())
            if pk == f"audit#{campaign_id}" and sk.startswith(sk_prefix)
        ]
        return sorted(records, key=lambda record: record.sort_key)


class MemoryDigestStore:
    """coach.adapters.digest_store's semantics (conditional replace and delete), behind one lock."""

    def __init__(self) -> None:
        self.asks: dict[tuple[str, str], QueuedAsk] = {}
        self.digests: dict[str, DigestRecord] = {}
        self.delegations: dict[str, list[Delegation]] = {}
        self._lock = threading.RLock()

    def queue_ask(self, ask: QueuedAsk) -> bool:
        with self._lock:
            old = self.asks.get((ask.person, ask.group))
            if old is not None and old.request.attempt > ask.request.attempt:
                return False
            self.asks[(ask.person, ask.group)] = ask
            return True

    def queued_asks(self, person: str) -> list[QueuedAsk]:
        with self._lock:
            return [ask for (p, _), ask in self.asks.items() if p == person]

    def drop_ask(self, ask: QueuedAsk) -> bool:
        with self._lock:
            old = self.asks.get((ask.person, ask.group))
            if old is None or old.queued_at != ask.queued_at or old.request.attempt != ask.request.attempt:
                return False
            del self.asks[(ask.person, ask.group)]
            return True

    def put_digest(self, digest: DigestRecord) -> None:
        self.digests[digest.digest_hash] = digest

    def get_digest(self, digest_hash: str) -> DigestRecord | None:
        return self.digests.get(digest_hash)

    def put_delegation(self, delegation: Delegation) -> None:
        with self._lock:
            self.delegations.setdefault(delegation.approver.strip().lower(), []).append(delegation)

    def delegations_of(self, approver: str) -> list[Delegation]:
        return list(self.delegations.get(approver.strip().lower(), []))


class MemoryDigestScheduler:
    """Remembers each wake-up (person, delay, task token); a test runs them when it chooses."""

    def __init__(self) -> None:
        self.wakeups: list[tuple[str, float, str]] = []

    def schedule(self, person: str, delay_seconds: float, task_token: str) -> None:
        self.wakeups.append((person, delay_seconds, task_token))
