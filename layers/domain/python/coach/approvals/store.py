"""The approval store port, with a DynamoDB adapter (APPROVALS_TABLE: pk, sk) and an in-memory one for tests.

Items: `link#<hash>`/`link` (the link), `group#<group>`/`link#<hash>` (index of a group's links),
`decision#<group>`/`decision` (the first decision, by conditional write), `audit#<campaign>`/`<time>#<hash>`
(append-only: a record is never overwritten)."""

from __future__ import annotations

import json
import threading
from typing import Protocol

from botocore.exceptions import ClientError

from coach.adapters.aws import client
from coach.approvals.records import AuditRecord, DecisionRecord, LinkRecord


class ApprovalStore(Protocol):
    def put_link(self, link: LinkRecord) -> None: ...

    def get_link(self, link_hash: str) -> LinkRecord | None: ...

    def set_link_state(self, link_hash: str, state: str) -> None: ...

    def group_links(self, group: str) -> list[LinkRecord]: ...

    def claim_decision(self, decision: DecisionRecord) -> bool:
        """Record the group's decision unless one exists; True when this call recorded it."""
        ...

    def get_decision(self, group: str) -> DecisionRecord | None: ...

    def mark_undelivered(self, group: str) -> None: ...

    def append_audit(self, record: AuditRecord) -> None: ...

    def audit(self, campaign_id: str) -> list[AuditRecord]: ...


class MemoryApprovalStore:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def _put(self, pk: str, sk: str, body: str, if_absent: bool = False) -> bool:
        with self._lock:
            if if_absent and (pk, sk) in self.items:
                return False
            self.items[(pk, sk)] = body
            return True

    def put_link(self, link: LinkRecord) -> None:
        self._put(f"link#{link.link_hash}", "link", link.model_dump_json())
        self._put(f"group#{link.group}", f"link#{link.link_hash}", "")

    def get_link(self, link_hash: str) -> LinkRecord | None:
        body = self.items.get((f"link#{link_hash}", "link"))
        return LinkRecord.model_validate_json(body) if body else None

    def set_link_state(self, link_hash: str, state: str) -> None:
        link = self.get_link(link_hash)
        if link:
            self._put(f"link#{link_hash}", "link", link.model_copy(update={"state": state}).model_dump_json())

    def group_links(self, group: str) -> list[LinkRecord]:
        hashes = [sk[5:] for (pk, sk) in list(self.items) if pk == f"group#{group}"]
        return [link for h in hashes if (link := self.get_link(h))]

    def claim_decision(self, decision: DecisionRecord) -> bool:
        return self._put(f"decision#{decision.group}", "decision", decision.model_dump_json(), if_absent=True)

    def get_decision(self, group: str) -> DecisionRecord | None:
        body = self.items.get((f"decision#{group}", "decision"))
        return DecisionRecord.model_validate_json(body) if body else None

    def mark_undelivered(self, group: str) -> None:
        decision = self.get_decision(group)
        if decision:
            self._put(f"decision#{group}", "decision", decision.model_copy(update={"delivered": False}).model_dump_json())

    def append_audit(self, record: AuditRecord) -> None:
        if not self._put(f"audit#{record.campaign_id}", f"{record.at}#{record.link_hash[:16]}",
                         record.model_dump_json(), if_absent=True):
            raise RuntimeError("audit record already exists")

    def audit(self, campaign_id: str) -> list[AuditRecord]:
        rows = sorted((sk, body) for (pk, sk), body in self.items.items() if pk == f"audit#{campaign_id}")
        return [AuditRecord.model_validate_json(body) for _, body in rows]


class DynamoApprovalStore:
    def __init__(self, table: str) -> None:
        self.table = table

    def _db(self):  # type: ignore[no-untyped-def]
        return client("dynamodb")

    def _put(self, pk: str, sk: str, body: str, if_absent: bool = False, ttl: int | None = None) -> bool:
        item = {"pk": {"S": pk}, "sk": {"S": sk}, "body": {"S": body}}
        if ttl:
            item["ttl"] = {"N": str(ttl)}
        kwargs: dict = {"TableName": self.table, "Item": item}
        if if_absent:
            kwargs["ConditionExpression"] = "attribute_not_exists(pk)"
        try:
            self._db().put_item(**kwargs)
            return True
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise

    def _get(self, pk: str, sk: str) -> str | None:
        item = self._db().get_item(TableName=self.table, Key={"pk": {"S": pk}, "sk": {"S": sk}},
                                   ConsistentRead=True).get("Item")
        return item["body"]["S"] if item else None

    def _query(self, pk: str) -> list[dict]:
        items, kwargs = [], {"TableName": self.table, "KeyConditionExpression": "pk = :pk",
                             "ExpressionAttributeValues": {":pk": {"S": pk}}, "ConsistentRead": True}
        while True:
            page = self._db().query(**kwargs)
            items += page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def put_link(self, link: LinkRecord) -> None:
        ttl = link.expires_at + 400 * 86_400
        self._put(f"link#{link.link_hash}", "link", link.model_dump_json(), ttl=ttl)
        self._put(f"group#{link.group}", f"link#{link.link_hash}", "{}", ttl=ttl)

    def get_link(self, link_hash: str) -> LinkRecord | None:
        body = self._get(f"link#{link_hash}", "link")
        return LinkRecord.model_validate_json(body) if body else None

    def set_link_state(self, link_hash: str, state: str) -> None:
        link = self.get_link(link_hash)
        if link:
            self._put(f"link#{link_hash}", "link", link.model_copy(update={"state": state}).model_dump_json(),
                      ttl=link.expires_at + 400 * 86_400)

    def group_links(self, group: str) -> list[LinkRecord]:
        hashes = [item["sk"]["S"][5:] for item in self._query(f"group#{group}")]
        return [link for h in hashes if (link := self.get_link(h))]

    def claim_decision(self, decision: DecisionRecord) -> bool:
        return self._put(f"decision#{decision.group}", "decision", decision.model_dump_json(), if_absent=True)

    def get_decision(self, group: str) -> DecisionRecord | None:
        body = self._get(f"decision#{group}", "decision")
        return DecisionRecord.model_validate_json(body) if body else None

    def mark_undelivered(self, group: str) -> None:
        decision = self.get_decision(group)
        if decision:
            self._put(f"decision#{group}", "decision", decision.model_copy(update={"delivered": False}).model_dump_json())

    def append_audit(self, record: AuditRecord) -> None:
        if not self._put(f"audit#{record.campaign_id}", f"{record.at}#{record.link_hash[:16]}",
                         record.model_dump_json(), if_absent=True):
            raise RuntimeError("audit record already exists")

    def audit(self, campaign_id: str) -> list[AuditRecord]:
        items = sorted(self._query(f"audit#{campaign_id}"), key=lambda item: item["sk"]["S"])
        return [AuditRecord.model_validate(json.loads(item["body"]["S"])) for item in items]
