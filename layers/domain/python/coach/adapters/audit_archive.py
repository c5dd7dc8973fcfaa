"""The decision trail, copied to the audit bucket (S3 Object Lock, COMPLIANCE mode): for the retention period
nobody can alter or delete an object written here, not even the account's root user.

DynamoDB keeps the working copy and is always written first (before the workflow hears of a decision); this
archive is the copy nobody can rewrite. Audit records carry no member data: who decided (an account team or
client contact), when, from where, what. Every object is written with `If-None-Match: *`, so nothing is ever
overwritten: a key that already exists is left as it is (a retried write of the same record changes nothing).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from botocore.exceptions import ClientError

from coach.adapters.aws import client
from coach.approvals.records import AuditRecord

PREFIX = "audit"
ALREADY_THERE = {"PreconditionFailed", "412"}


def snapshot_key(campaign_id: str, at: datetime) -> str:
    """audit/<campaign_id>/decisions-<UTC timestamp>.json: one per archived snapshot, never reused."""
    return f"{PREFIX}/{campaign_id}/decisions-{at.astimezone(UTC).strftime('%Y%m%dT%H%M%S.%fZ')}.json"


def record_key(record: AuditRecord) -> str:
    """audit/<campaign_id>/<sort key>.json: the record's own key in the table, so one object per record."""
    return f"{PREFIX}/{record.campaign_id}/{record.sort_key}.json"


def _as_json(record: AuditRecord) -> dict:
    return {**record.model_dump(mode="json"), "sort_key": record.sort_key}


def _put_new(bucket: str, key: str, document: dict) -> bool:
    """Write once: False (and nothing written) when the key already holds an object."""
    body = json.dumps(document, sort_keys=True, indent=1).encode("utf-8")
    try:
        client("s3").put_object(
            Bucket=bucket, Key=key, Body=body, ContentType="application/json", IfNoneMatch="*"
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ALREADY_THERE:
            return False
        raise
    return True


class S3AuditArchive:
    """The audit bucket (ports.AuditArchive)."""

    def __init__(self, bucket: str) -> None:
        self.bucket = bucket

    def archive_campaign(
        self, records: Sequence[AuditRecord], campaign_id: str, *, now: datetime | None = None
    ) -> str:
        """One immutable JSON snapshot of a campaign's whole decision trail; its key."""
        at = now or datetime.now(UTC)
        key = snapshot_key(campaign_id, at)
        _put_new(
            self.bucket,
            key,
            {
                "campaign_id": campaign_id,
                "archived_at": at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
                "count": len(records),
                "records": [_as_json(r) for r in records],
            },
        )
        return key

    def archive_records(self, records: Iterable[AuditRecord]) -> list[str]:
        """One object per audit record; returns the keys written now (records archived before are skipped)."""
        return [record_key(r) for r in records if _put_new(self.bucket, record_key(r), _as_json(r))]
