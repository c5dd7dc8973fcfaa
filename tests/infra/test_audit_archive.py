"""The decision trail in the Object Lock bucket, against moto's S3: what the adapter writes, that it never
overwrites, and that the approval pages and the summary write it (and what happens when they cannot)."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import boto3
import pytest
from coach.approvals.records import AuditAction, AuditRecord
from moto import mock_aws

from tests.conftest import load_handler, set_function_env

ROOT = Path(__file__).resolve().parents[2]
AUDIT = "audit-trail"


def logged(caplog) -> str:
    """The JSON lines Powertools wrote, extras included (its handler's stream was bound before capture)."""
    from coach.observability import logger

    formatter = logger.registered_formatter
    return "\n".join(formatter.format(r) for r in caplog.records)


def record(at: str, action: AuditAction = "approved", step: int = 0, client_id: str = "C1") -> AuditRecord:
    return AuditRecord(
        campaign_id="camp",
        client_id=client_id,
        at=at,
        action=action,
        who="ann@pbm.example",
        role="account_team",
        attempt=0,
        comment="fine",
        source_ip="192.0.2.1",
        user_agent="phone",
        link_hash="ab" * 32,
        step=step,
    )


def object_lock_bucket(s3, name: str = AUDIT) -> None:
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    s3.put_object_lock_configuration(
        Bucket=name,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Years": 6}},
        },
    )


def body(s3, key: str) -> dict:
    return json.loads(s3.get_object(Bucket=AUDIT, Key=key)["Body"].read())


@pytest.fixture
def aws(monkeypatch):
    set_function_env(monkeypatch)
    with mock_aws():
        from coach import runtime

        runtime.reset()
        s3 = boto3.client("s3")
        object_lock_bucket(s3)
        boto3.client("dynamodb").create_table(
            TableName="approvals",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
        )
        yield s3, runtime
        runtime.reset()


def test_archive_audit_writes_one_locked_snapshot_of_the_whole_trail(aws):
    from coach.adapters.audit_archive import S3AuditArchive

    s3, _ = aws
    archive = S3AuditArchive(AUDIT)
    trail = [record("2024-05-01T10:00:00.000001Z"), record("2024-05-01T11:00:00.000001Z", "task_closed", 1)]
    key = archive.archive_campaign(trail, "camp", now=datetime(2024, 5, 2, 8, 30, tzinfo=UTC))
    assert key == "audit/camp/decisions-20240502T083000.000000Z.json"
    snapshot = body(s3, key)
    assert snapshot["campaign_id"] == "camp" and snapshot["count"] == 2
    assert [(r["action"], r["who"], r["sort_key"]) for r in snapshot["records"]] == [
        ("approved", "ann@pbm.example", trail[0].sort_key),
        ("task_closed", "ann@pbm.example", trail[1].sort_key),
    ]
    head = s3.head_object(Bucket=AUDIT, Key=key)
    assert head["ObjectLockMode"] == "COMPLIANCE"  # the bucket's default retention applied on write
    assert head["ObjectLockRetainUntilDate"].year >= datetime.now(UTC).year + 5
    # a later snapshot is a new object beside it: the first one is never replaced
    later = archive.archive_campaign(trail[:1], "camp")
    assert later != key and body(s3, key)["count"] == 2
    assert len(s3.list_object_versions(Bucket=AUDIT, Prefix=key)["Versions"]) == 1


def test_archive_records_writes_one_object_per_record_and_never_overwrites(aws):
    from coach.adapters.audit_archive import S3AuditArchive

    s3, _ = aws
    archive_records = S3AuditArchive(AUDIT).archive_records
    first = record("2024-05-01T10:00:00.000001Z")
    assert archive_records([first]) == [f"audit/camp/{first.sort_key}.json"]
    # the same record again (a retried POST), even with other details, leaves the archived object as it was
    altered = first.model_copy(update={"comment": "changed", "action": "declined"})
    closed = record("2024-05-01T11:00:00.000001Z", "task_closed", 1)
    assert archive_records([altered, closed]) == [f"audit/camp/{closed.sort_key}.json"]
    assert body(s3, f"audit/camp/{first.sort_key}.json")["comment"] == "fine"
    versions = s3.list_object_versions(Bucket=AUDIT, Prefix="audit/camp/")["Versions"]
    assert len(versions) == 2  # one per record: no second version of the first


def test_without_an_audit_bucket_nothing_is_archived(aws):
    s3, runtime = aws
    assert runtime.audit_archive() is None  # AUDIT_BUCKET is not set
    assert "Contents" not in s3.list_objects_v2(Bucket=AUDIT)


@pytest.fixture
def approval_link(aws, monkeypatch):
    """A link emailed to the account team (as in tests/unit/test_approval_api.py) and the page handler."""
    from coach.adapters.memory import MemoryMailer, MemoryObjectStore
    from coach.approvals.asking import request_approval
    from coach.models import ApprovalRequest, ClientWork, MarketEvent

    _, runtime = aws
    monkeypatch.setenv("AUDIT_BUCKET", AUDIT)
    runtime.reset()
    objects, mailer = MemoryObjectStore(), MemoryMailer()
    objects.put("data", "c.json", json.dumps({"account_team_emails": ["ann@pbm.example"]}).encode())
    request = ApprovalRequest(
        campaign_id="camp",
        role="account_team",
        task_token="tok",
        deadline_seconds=3600,
        client=ClientWork(
            client_id="C1",
            client_name="Acme",
            affected=3,
            reachable=2,
            election="ask",
            batches_key="b",
            batch_count=1,
            contacts_key="c.json",
        ),
        event=MarketEvent.model_validate(
            {
                "event_id": "e",
                "event_type": "otc_switch",
                "drug": {"name": "Claritin", "ingredient": "loratadine"},
                "effective_date": "2003-01-01",
                "announced_on": "2002-11-27",
                "summary": "s",
            }
        ),
    )
    request_approval(
        request,
        store=runtime.approval_store(),
        mailer=mailer,
        objects=objects,
        data_bucket="data",
        sender="p@pbm.example",
        base_url="https://approve.example",
        now=int(time.time()),
    )
    link_id = mailer.sent[0].text.split("/a/")[1].split()[0]
    module = load_handler("approval_api")
    delivered = []
    monkeypatch.setattr(
        module,
        "callbacks",
        lambda: type(
            "Callbacks",
            (),
            {
                "succeed": lambda self, token, output: delivered.append(token),
                "fail": lambda self, token, error, cause: delivered.append(token),
            },
        )(),
    )

    tokens: list[str] = []

    def post(decision: str = "approve"):
        from coach_local.approval_server import api_event
        from coach_local.dispatch import FakeLambdaContext

        def call(method, body=b"", headers=None):
            event = api_event(method, f"/a/{link_id}", headers or {"User-Agent": "pytest"}, body, "192.0.2.1")
            return module.handler(event, FakeLambdaContext("coach-approval_api"))

        if not tokens:  # once decided, the page shows the decision instead of the form
            token_match = re.search(r'name="csrf_token" value="([^"]+)"', call("GET")["body"])
            assert token_match is not None
            tokens.append(token_match.group(1))
        token = tokens[0]
        form = urlencode({"csrf_token": token, "decision": decision, "comment": "ok"}).encode()
        return call(
            "POST", form, {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "phone"}
        )

    return post, runtime, delivered


def test_a_decision_on_the_approval_page_is_archived_as_its_own_object(approval_link, aws, monkeypatch):
    from coach.observability import metrics

    post, runtime, delivered = approval_link
    s3, _ = aws
    counted = []
    monkeypatch.setattr(metrics, "add_metric", lambda name, unit, value: counted.append(name))
    assert post()["statusCode"] == 200 and delivered == ["tok"]
    [audit] = runtime.approval_store().audit("camp")
    archived = body(s3, f"audit/camp/{audit.sort_key}.json")
    assert archived["action"] == "approved" and archived["who"] == "ann@pbm.example"
    assert AuditRecord.model_validate(archived) == audit  # the same record DynamoDB holds
    assert "Already approved" in post()["body"]  # a second click shows the recorded decision: nothing new
    # one approval, counted once
    assert counted == ["ApprovalPost200", "DecisionsApproved", "ApprovalPost200"]
    assert len(s3.list_objects_v2(Bucket=AUDIT, Prefix="audit/camp/")["Contents"]) == 1


def test_an_archive_failure_keeps_the_decision_and_is_logged_without_contact_data(approval_link, aws, caplog):
    post, runtime, delivered = approval_link
    s3, _ = aws
    s3.delete_bucket(Bucket=AUDIT)  # still empty: every put to it now fails
    response = post()
    logs = logged(caplog)
    assert response["statusCode"] == 200 and "you approved" in response["body"]
    assert delivered == ["tok"]  # the workflow heard
    assert [a.action for a in runtime.approval_store().audit("camp")] == ["approved"]  # and DynamoDB has it
    assert "audit follow-up failed" in logs and "NoSuchBucket" in logs
    assert "ann@pbm.example" not in logs and "192.0.2.1" not in logs


def test_the_summary_archives_the_trail_and_reraises_a_failure(aws, caplog):
    from coach.approvals.records import iso

    s3, runtime = aws
    store = runtime.approval_store()
    store.append_audit(record(iso(time.time())))
    store.append_audit(record(iso(time.time() + 1), client_id="C2"))
    from coach.adapters.audit_archive import S3AuditArchive
    from coach.approvals.trail import archive_campaign_trail

    assert archive_campaign_trail("camp", store=store, archive=S3AuditArchive(AUDIT)) == 2
    [key] = [o["Key"] for o in s3.list_objects_v2(Bucket=AUDIT, Prefix="audit/camp/decisions-")["Contents"]]
    assert [r["client_id"] for r in body(s3, key)["records"]] == ["C1", "C2"]
    caplog.clear()
    with pytest.raises(Exception, match="NoSuchBucket"):
        archive_campaign_trail("camp", store=store, archive=S3AuditArchive("no-such-audit-bucket"))
    logs = logged(caplog)
    assert "audit archive failed" in logs and '"campaign_id":"camp"' in logs.replace(" ", "")
    assert "ann@pbm.example" not in logs
    assert len(store.audit("camp")) == 2  # DynamoDB still holds the whole trail


@pytest.mark.slow
def test_a_local_campaign_archives_each_decision_and_the_whole_trail(tmp_path, monkeypatch):
    """The local runtime creates the Object Lock bucket and sets AUDIT_BUCKET: a run exercises both writers."""
    from datetime import date

    from coach_local.inputs import load_event
    from coach_local.runner import run_campaign
    from coach_local.runtime import LocalRuntime
    from tests.workflow.tiny_lake import CLARITIN_NDC, client, member, write_lake

    archived: dict[str, dict] = {}
    leave = LocalRuntime.__exit__

    def capture_then_leave(self, *exc):  # moto forgets everything on exit: read the audit bucket first
        s3 = self.client("s3")
        bucket = "coach-local-audit"
        retention = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]["Rule"]
        assert retention["DefaultRetention"]["Mode"] == "COMPLIANCE"
        assert retention["DefaultRetention"]["Years"] == 6
        for item in s3.list_objects_v2(Bucket=bucket, Prefix="audit/").get("Contents", []):
            archived[item["Key"]] = json.loads(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())
        return leave(self, *exc)

    monkeypatch.setattr(LocalRuntime, "__exit__", capture_then_leave)
    lake = write_lake(
        tmp_path / "lake",
        [client("C1", "Asks Every Time LLC")],
        [member("M100", "C1", "Zebulon", "Quartermaine")],
        [("M100", CLARITIN_NDC, date(2002, 10, 15), "paid")],
    )
    event = load_event(ROOT / "coach_local" / "events" / "claritin_otc.json")
    result = run_campaign(event, lake, tmp_path / "out", timeout=300, time_scale=1 / 86_400)
    assert result.status == "SUCCEEDED", (result.error, result.function_errors)
    prefix = f"audit/{result.campaign_id}/"
    snapshots = [body for key, body in archived.items() if key.startswith(prefix + "decisions-")]
    singles = {key: body for key, body in archived.items() if not key.startswith(prefix + "decisions-")}
    assert len(snapshots) == 1  # the summary's, at campaign end
    trail = json.loads((tmp_path / "out" / "audit.json").read_text())  # run_campaign's export of DynamoDB
    assert snapshots[0]["count"] == len(snapshots[0]["records"]) >= 2  # account team and client approved
    assert {r["sort_key"] for r in snapshots[0]["records"]} == {
        k[len(prefix) : -len(".json")] for k in singles
    }
    assert {(r["role"], r["action"]) for r in singles.values()} == {
        ("account_team", "approved"),
        ("client", "approved"),
    }
    assert "Zebulon" not in json.dumps(archived) and "Quartermaine" not in json.dumps(archived)  # no member
    assert trail  # DynamoDB's trail exists beside the archive
