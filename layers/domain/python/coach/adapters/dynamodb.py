"""The approval store on DynamoDB (APPROVALS_TABLE: `pk`, `sk`), and the table's definition.

Items (one attribute per field, readable in the console):
- `link#<sha256 of link id>` / `link`: the link (task token, recipient, group, counts, expiry, state, csrf token)
- `group#<campaign>#<client>#<role>` / `link#<hash>`: index of a group's links (for superseding)
- `decision#<campaign>#<client>#<role>` / `decision`: the group's first decision (conditional write)
- `audit#<campaign>` / `<role>#<client>#<iso time>#<hash prefix>#<step>`: append-only audit (conditional write,
  never updated); one question's records are one key range, the campaign's trail is put in time order on reading

A pending link also carries `open_wait = "open"`, removed when the link stops being pending: the sparse global
secondary index `open_waits` (partition `open_wait`, sort `created_at`) lists the questions still waiting for an
answer without reading the rest of the table (the open-waits gauge, `coach status`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from coach.adapters.aws import client
from coach.approvals.records import (
    OPEN_WAIT_FIELDS,
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
from coach.reads import read_each

RETENTION_SECONDS = 400 * 86_400  # links and decisions are purged (DynamoDB TTL) well after the campaign
OPEN_WAITS_INDEX = "open_waits"
OPEN_WAIT_ATTR = "open_wait"
OPEN = "open"
BATCH_KEYS = 100  # BatchGetItem reads at most 100 items a call
BATCH_ROUNDS = 8  # asks for unprocessed keys again at most this often (with a growing pause) before failing


def _to_attr(value: Any) -> dict[str, Any]:
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float):
        return {"N": repr(value)}
    return {"S": str(value)}


def _from_attr(attr: dict[str, Any]) -> Any:
    if "S" in attr:
        return attr["S"]
    if "N" in attr:
        text = attr["N"]
        return float(text) if any(c in text for c in ".eE") else int(text)
    if "BOOL" in attr:
        return attr["BOOL"]
    return None


def _item(pk: str, sk: str, fields: dict[str, Any], ttl: int | None = None) -> dict[str, Any]:
    item = {"pk": {"S": pk}, "sk": {"S": sk}, **{name: _to_attr(value) for name, value in fields.items()}}
    if ttl is not None:
        item["ttl"] = {"N": str(ttl)}
    return item


def _fields(item: dict[str, Any]) -> dict[str, Any]:
    return {
        name: _from_attr(attr)
        for name, attr in item.items()
        if name not in ("pk", "sk", "ttl", OPEN_WAIT_ATTR)
    }


def table_definition(name: str) -> dict[str, Any]:
    """CreateTable arguments of the approvals table (the local runtime and the tests; CDK declares the same)."""
    return {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": OPEN_WAIT_ATTR, "AttributeType": "S"},
            {"AttributeName": "created_at", "AttributeType": "N"},
        ],
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": OPEN_WAITS_INDEX,
                "KeySchema": [
                    {"AttributeName": OPEN_WAIT_ATTR, "KeyType": "HASH"},
                    {"AttributeName": "created_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(OPEN_WAIT_FIELDS)},
            }
        ],
    }


def _condition_failed(exc: Exception) -> bool:
    code = getattr(exc, "response", {}).get("Error", {}).get("Code")
    return code in ("ConditionalCheckFailedException", "TransactionCanceledException")


class DynamoApprovalStore:
    def __init__(self, table: str) -> None:
        self.table = table

    @staticmethod
    def _db() -> Any:
        return client("dynamodb")

    def _key(self, pk: str, sk: str) -> dict[str, Any]:
        return {"pk": {"S": pk}, "sk": {"S": sk}}

    def _put_new(self, item: dict[str, Any]) -> bool:
        try:
            self._db().put_item(
                TableName=self.table, Item=item, ConditionExpression="attribute_not_exists(pk)"
            )
            return True
        except Exception as exc:
            if _condition_failed(exc):
                return False
            raise

    def _update_if(
        self,
        key: tuple[str, str],
        set_field: str,
        value: str,
        condition: str,
        values: dict[str, Any],
        remove: str | None = None,
    ) -> bool:
        try:
            self._db().update_item(
                TableName=self.table,
                Key=self._key(*key),
                UpdateExpression="SET #f = :v" + (f" REMOVE {remove}" if remove else ""),
                ConditionExpression=condition,
                ExpressionAttributeNames={"#f": set_field},
                ExpressionAttributeValues={":v": {"S": value}, **values},
            )
            return True
        except Exception as exc:
            if _condition_failed(exc):
                return False
            raise

    def _get(self, key: tuple[str, str]) -> dict[str, Any] | None:
        item = self._db().get_item(TableName=self.table, Key=self._key(*key), ConsistentRead=True).get("Item")
        return _fields(item) if item else None

    def _query(self, pk: str, sk_prefix: str | None = None) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": pk}},
            "ConsistentRead": True,
        }
        if sk_prefix is not None:
            kwargs["KeyConditionExpression"] = "pk = :pk AND begins_with(sk, :prefix)"
            kwargs["ExpressionAttributeValues"][":prefix"] = {"S": sk_prefix}
        while True:
            page = self._db().query(**kwargs)
            items += page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _batch_get(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        """(pk, sk) → fields of the items that exist among `keys`: consistent BatchGetItem reads, BATCH_KEYS a call,
        keys DynamoDB left unprocessed (throttling) asked again after a short pause."""
        found: dict[tuple[str, str], dict[str, Any]] = {}
        unique = list(dict.fromkeys(keys))  # a key twice in one request is a ValidationException
        for start in range(0, len(unique), BATCH_KEYS):
            keys_and_attributes: dict[str, Any] = {
                "Keys": [self._key(*key) for key in unique[start : start + BATCH_KEYS]],
                "ConsistentRead": True,
            }
            for round_ in range(BATCH_ROUNDS):
                page = self._db().batch_get_item(RequestItems={self.table: keys_and_attributes})
                for item in page.get("Responses", {}).get(self.table, []):
                    found[(item["pk"]["S"], item["sk"]["S"])] = _fields(item)
                keys_and_attributes = page.get("UnprocessedKeys", {}).get(self.table) or {}
                if not keys_and_attributes.get("Keys"):
                    break
                time.sleep(min(0.05 * 2**round_, 2.0))
            else:
                raise RuntimeError(f"{self.table}: BatchGetItem left keys unprocessed {BATCH_ROUNDS} times")
        return found

    def put_link(self, link: LinkRecord) -> None:
        ttl = link.expires_at + RETENTION_SECONDS
        item = _item(*link_key(link.link_hash), link.model_dump(), ttl)
        if link.state == "pending":
            item[OPEN_WAIT_ATTR] = {"S": OPEN}
        self._db().put_item(TableName=self.table, Item=item)
        self._db().put_item(
            TableName=self.table, Item=_item(f"group#{link.group}", f"link#{link.link_hash}", {}, ttl)
        )

    def get_link(self, link_hash: str) -> LinkRecord | None:
        fields = self._get(link_key(link_hash))
        return LinkRecord.model_validate(fields) if fields else None

    def group_links(self, group: str) -> list[LinkRecord]:
        return self.groups_links([group])[group]

    def groups_links(self, groups: Sequence[str]) -> dict[str, list[LinkRecord]]:
        unique = list(dict.fromkeys(groups))
        found_hashes = read_each(
            lambda group: [item["sk"]["S"].removeprefix("link#") for item in self._query(f"group#{group}")],
            unique,
        )
        hashes = dict(zip(unique, found_hashes, strict=True))
        found = self._batch_get([link_key(h) for group_hashes in hashes.values() for h in group_hashes])
        return {
            group: [
                LinkRecord.model_validate(found[link_key(h)]) for h in group_hashes if link_key(h) in found
            ]
            for group, group_hashes in hashes.items()
        }

    def supersede(self, link_hash: str) -> bool:
        return self._end_pending(link_hash, "superseded")

    def close_link(self, link_hash: str) -> bool:
        return self._end_pending(link_hash, "closed")

    def _end_pending(self, link_hash: str, state: LinkState) -> bool:
        return self._update_if(
            link_key(link_hash),
            "state",
            state,
            "#f = :pending",
            {":pending": {"S": "pending"}},
            remove=OPEN_WAIT_ATTR,
        )

    def set_link_state(self, link_hash: str, state: LinkState) -> None:
        remove = None if state == "pending" else OPEN_WAIT_ATTR
        self._update_if(link_key(link_hash), "state", state, "attribute_exists(pk)", {}, remove=remove)

    def retarget(self, link_hash: str, task_token: str) -> bool:
        try:
            self._db().update_item(
                TableName=self.table,
                Key=self._key(*link_key(link_hash)),
                UpdateExpression="SET #t = :token",
                ConditionExpression="#s = :pending",
                ExpressionAttributeNames={"#t": "task_token", "#s": "state"},
                ExpressionAttributeValues={":token": {"S": task_token}, ":pending": {"S": "pending"}},
            )
            return True
        except Exception as exc:
            if _condition_failed(exc):
                return False
            raise

    def open_links(self) -> list[OpenLink]:
        links: list[OpenLink] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": OPEN_WAITS_INDEX,
            "KeyConditionExpression": "#o = :open",
            "ExpressionAttributeNames": {"#o": OPEN_WAIT_ATTR},
            "ExpressionAttributeValues": {":open": {"S": OPEN}},
        }
        while True:
            page = self._db().query(**kwargs)
            links += [OpenLink.of(_fields(item)) for item in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return links
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def claim_decision(self, decision: DecisionRecord) -> bool:
        ttl = int(decision.decided_at) + RETENTION_SECONDS
        return self._put_new(_item(*decision_key(decision.group), decision.model_dump(), ttl))

    def get_decision(self, group: str) -> DecisionRecord | None:
        fields = self._get(decision_key(group))
        return DecisionRecord.model_validate(fields) if fields else None

    def decisions(self, groups: Sequence[str]) -> dict[str, DecisionRecord]:
        found = self._batch_get([decision_key(group) for group in groups])
        return {
            group: DecisionRecord.model_validate(found[decision_key(group)])
            for group in groups
            if decision_key(group) in found
        }

    def set_delivery(self, decision: DecisionRecord, delivery: Delivery) -> bool:
        return self._update_if(
            decision_key(decision.group),
            "delivery",
            delivery,
            "#f = :pending AND link_hash = :h",
            {":pending": {"S": "pending"}, ":h": {"S": decision.link_hash}},
        )

    def reopen(self, group: str, task_token: str) -> bool:
        decision = self.get_decision(group)
        if not reopenable(decision, task_token):
            return False
        assert decision is not None
        try:  # only if it is still that same undelivered decision
            self._db().delete_item(
                TableName=self.table,
                Key=self._key(*decision_key(group)),
                ConditionExpression="link_hash = :h AND delivery <> :delivered",
                ExpressionAttributeValues={":h": {"S": decision.link_hash}, ":delivered": {"S": "delivered"}},
            )
            return True
        except Exception as exc:
            if _condition_failed(exc):
                return False
            raise

    def append_audit(self, record: AuditRecord) -> bool:
        return self._put_new(_item(f"audit#{record.campaign_id}", record.table_key, record.model_dump()))

    def audit(self, campaign_id: str) -> list[AuditRecord]:
        records = [AuditRecord.model_validate(_fields(item)) for item in self._query(f"audit#{campaign_id}")]
        return sorted(records, key=lambda record: record.sort_key)

    def question_audit(self, campaign_id: str, client_id: str, role: str) -> list[AuditRecord]:
        items = self._query(f"audit#{campaign_id}", question_prefix(client_id, role))
        records = [AuditRecord.model_validate(_fields(item)) for item in items]
        mine = [r for r in records if r.client_id == client_id and r.role == role]  # a client id holding '#'
        return sorted(mine, key=lambda record: record.sort_key)
