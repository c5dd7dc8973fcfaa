"""Feed state (coach.ports.FeedState): in memory (tests) and on DynamoDB (FEED_STATE_TABLE: `pk`, `sk`).

Items: `<source>` / `#watermark` holds the source's watermark; `<source>` / `<key>` one value per key (a recall's
content hash and class, a group's last state, an NDC-directory index entry). One attribute `value`, a string."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from coach.adapters.aws import client

WATERMARK = "#watermark"
_BATCH_GET = 100  # DynamoDB's BatchGetItem limit
_BATCH_WRITE = 25  # and BatchWriteItem's


class MemoryFeedState:
    def __init__(self) -> None:
        self.watermarks: dict[str, str] = {}
        self.values: dict[str, dict[str, str]] = {}

    def get_watermark(self, source: str) -> str | None:
        return self.watermarks.get(source)

    def set_watermark(self, source: str, value: str) -> None:
        self.watermarks[source] = value

    def get_values(self, source: str, keys: Iterable[str]) -> dict[str, str]:
        stored = self.values.get(source, {})
        return {key: stored[key] for key in keys if key in stored}

    def put_values(self, source: str, values: dict[str, str]) -> None:
        self.values.setdefault(source, {}).update(values)

    def replace_values(self, source: str, values: dict[str, str]) -> None:
        self.values[source] = dict(values)


def table_definition(name: str) -> dict[str, Any]:
    """CreateTable arguments of the feed state table (tests and the local runtime; CDK declares the same)."""
    return {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
    }


class DynamoFeedState:
    def __init__(self, table: str) -> None:
        self.table = table

    @property
    def _db(self) -> Any:
        return client("dynamodb")

    def get_watermark(self, source: str) -> str | None:
        item = self._db.get_item(
            TableName=self.table, Key={"pk": {"S": source}, "sk": {"S": WATERMARK}}, ConsistentRead=True
        ).get("Item")
        return item["value"]["S"] if item else None

    def set_watermark(self, source: str, value: str) -> None:
        self._db.put_item(
            TableName=self.table, Item={"pk": {"S": source}, "sk": {"S": WATERMARK}, "value": {"S": value}}
        )

    def get_values(self, source: str, keys: Iterable[str]) -> dict[str, str]:
        wanted = list(dict.fromkeys(keys))
        found: dict[str, str] = {}
        for start in range(0, len(wanted), _BATCH_GET):
            request: dict[str, Any] = {
                self.table: {
                    "Keys": [
                        {"pk": {"S": source}, "sk": {"S": k}} for k in wanted[start : start + _BATCH_GET]
                    ],
                    "ConsistentRead": True,
                }
            }
            while request:
                answer = self._db.batch_get_item(RequestItems=request)
                for item in answer.get("Responses", {}).get(self.table, []):
                    found[item["sk"]["S"]] = item["value"]["S"]
                request = answer.get("UnprocessedKeys") or {}
        return found

    def _write(self, requests: list[dict[str, Any]]) -> None:
        for start in range(0, len(requests), _BATCH_WRITE):
            pending: dict[str, Any] = {self.table: requests[start : start + _BATCH_WRITE]}
            while pending:
                pending = self._db.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}

    def put_values(self, source: str, values: dict[str, str]) -> None:
        self._write(
            [
                {"PutRequest": {"Item": {"pk": {"S": source}, "sk": {"S": k}, "value": {"S": v}}}}
                for k, v in values.items()
            ]
        )

    def _keys(self, source: str) -> dict[str, str]:
        stored: dict[str, str] = {}
        pages = self._db.get_paginator("query").paginate(
            TableName=self.table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": source}},
            ConsistentRead=True,
        )
        for page in pages:
            for item in page["Items"]:
                if item["sk"]["S"] != WATERMARK:
                    stored[item["sk"]["S"]] = item["value"]["S"]
        return stored

    def replace_values(self, source: str, values: dict[str, str]) -> None:
        """Writes only what changed and deletes what is gone (a daily index is mostly the same)."""
        stored = self._keys(source)
        self.put_values(source, {k: v for k, v in values.items() if stored.get(k) != v})
        self._write(
            [
                {"DeleteRequest": {"Key": {"pk": {"S": source}, "sk": {"S": k}}}}
                for k in stored
                if k not in values
            ]
        )
