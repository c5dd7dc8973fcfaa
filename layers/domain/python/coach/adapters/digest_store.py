"""Digests and delegates in the approvals table (APPROVALS_TABLE: `pk`, `sk`), beside the links they lead to.

Items:
- `asks#<hash of the person's address and the campaign>` / `ask#<campaign>#<client>#<role>`: an ask waiting for the person's next
  digest (one per question: a newer attempt replaces an older one, conditionally); deleted once sent
- `digest#<sha256 of digest id>` / `digest`: a digest sent (the links it stands for, its CSRF token, its expiry)
- `delegation#<approver address>` / `<start>#<delegate address>`: a delegation (docs/architecture.md, "Delegates")
"""

from __future__ import annotations

import json
from typing import Any

from coach.adapters.aws import client
from coach.adapters.dynamodb import RETENTION_SECONDS, _condition_failed, _fields, _item
from coach.approvals.delegation import Delegation
from coach.approvals.digest_records import DigestRecord, QueuedAsk

QUEUE_RETENTION_SECONDS = (
    30 * 86_400
)  # an ask nobody sent (its person's wake-ups all lost) is purged after this


def ask_key(ask: QueuedAsk) -> tuple[str, str]:
    return f"asks#{ask.person}", f"ask#{ask.group}"


class DynamoDigestStore:
    def __init__(self, table: str) -> None:
        self.table = table

    @staticmethod
    def _db() -> Any:
        return client("dynamodb")

    def _key(self, pk: str, sk: str) -> dict[str, Any]:
        return {"pk": {"S": pk}, "sk": {"S": sk}}

    def _query(self, pk: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": pk}},
            "ConsistentRead": True,
        }
        while True:
            page = self._db().query(**kwargs)
            items += page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def queue_ask(self, ask: QueuedAsk) -> bool:
        fields = ask.model_dump(mode="json", exclude={"request"})
        fields.update(attempt=ask.request.attempt, request=ask.request.model_dump_json())
        try:
            self._db().put_item(
                TableName=self.table,
                Item=_item(*ask_key(ask), fields, int(ask.queued_at) + QUEUE_RETENTION_SECONDS),
                ConditionExpression="attribute_not_exists(pk) OR attempt <= :a",
                ExpressionAttributeValues={":a": {"N": str(ask.request.attempt)}},
            )
            return True
        except Exception as exc:
            if _condition_failed(exc):
                return False
            raise

    def queued_asks(self, person: str) -> list[QueuedAsk]:
        asks = []
        for item in self._query(f"asks#{person}"):
            fields = _fields(item)
            fields["request"] = json.loads(fields["request"])
            asks.append(QueuedAsk.model_validate(fields))
        return asks

    def drop_ask(self, ask: QueuedAsk) -> bool:
        try:
            self._db().delete_item(
                TableName=self.table,
                Key=self._key(*ask_key(ask)),
                ConditionExpression="queued_at = :q AND attempt = :a",
                ExpressionAttributeValues={
                    ":q": {"N": repr(ask.queued_at)},
                    ":a": {"N": str(ask.request.attempt)},
                },
            )
            return True
        except Exception as exc:
            if _condition_failed(exc):
                return False
            raise

    def put_digest(self, digest: DigestRecord) -> None:
        fields = digest.model_dump()
        fields["link_hashes"] = json.dumps(digest.link_hashes)
        item = _item(f"digest#{digest.digest_hash}", "digest", fields, digest.expires_at + RETENTION_SECONDS)
        self._db().put_item(TableName=self.table, Item=item)

    def get_digest(self, digest_hash: str) -> DigestRecord | None:
        got = self._db().get_item(
            TableName=self.table, Key=self._key(f"digest#{digest_hash}", "digest"), ConsistentRead=True
        )
        if "Item" not in got:
            return None
        fields = _fields(got["Item"])
        fields["link_hashes"] = json.loads(fields["link_hashes"])
        return DigestRecord.model_validate(fields)

    def put_delegation(self, delegation: Delegation) -> None:
        approver = delegation.approver.strip().lower()
        item = _item(
            f"delegation#{approver}",
            f"{delegation.starts!r}#{delegation.delegate.strip().lower()}",
            delegation.model_dump(),
            int(delegation.ends) + RETENTION_SECONDS,
        )
        self._db().put_item(TableName=self.table, Item=item)

    def delegations_of(self, approver: str) -> list[Delegation]:
        return [
            Delegation.model_validate(_fields(item))
            for item in self._query(f"delegation#{approver.strip().lower()}")
        ]
