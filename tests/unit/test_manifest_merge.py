"""The client's manifest.csv at scale: merged by streaming (a multipart upload under S3), so a 9M-member client does
not need the whole file in one Lambda's memory; an upload that fails leaves no object and no stray parts."""

from __future__ import annotations

import csv
import io

import boto3
import pytest
from coach.adapters import aws
from coach.adapters.memory import MemoryObjectStore
from coach.adapters.s3 import S3ObjectStore
from coach.keys import letters_prefix
from coach.letters.service import MANIFEST_COLUMNS, merge_client_manifest


def manifest(batch: int, rows: int) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for i in range(rows):
        writer.writerow(
            {
                **dict.fromkeys(MANIFEST_COLUMNS, ""),
                "piece_id": f"p{batch}-{i}",
                "member_id": f"M{batch:03d}{i:05d}",
                "client_id": "C1",
                "channel": "email" if i % 7 == 0 else "mail",
                "name": 'Ana, "Nana" Díaz',  # quoting and non-ASCII survive the merge
                "batch_file": f"batch-{batch:05d}.pdf",
                "template_sha256": "0123456789abcdef" * 4,
                "address_line1": f"{i} North Lincoln Boulevard West",
                "address_line2": "Apartment 1204, Building C",
                "city": "Springfield",
                "state": "IL",
                "postal_code": "62701-1234",
            }
        )
    return buffer.getvalue().encode("utf-8")


@pytest.fixture
def s3(mocked_aws):
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket="letters")
    return client


def test_a_large_client_manifest_is_written_in_parts_and_equals_the_batches_in_order(s3, monkeypatch):
    monkeypatch.setattr(S3ObjectStore, "PART_SIZE", 5 * 1024 * 1024)  # S3's smallest part
    store = S3ObjectStore()
    prefix = letters_prefix("camp", "C1")
    bodies = {b: manifest(b, 9_000) for b in (2, 0, 1, 10, 3)}  # written out of order, merged in batch order
    for batch, body in bodies.items():
        store.put("letters", f"{prefix}/batch-{batch:05d}.manifest.csv", body)
    calls: list[str] = []
    store_client = aws.client("s3")
    original = store_client.__class__._make_api_call

    def spy(self, operation, params):
        calls.append(operation)
        return original(self, operation, params)

    monkeypatch.setattr(store_client.__class__, "_make_api_call", spy)
    mailed, emailed = merge_client_manifest(store, "letters", "camp", "C1")

    merged = store.get("letters", f"{prefix}/manifest.csv")
    expected = bodies[0] + b"".join(bodies[b].partition(b"\n")[2] for b in (1, 2, 3, 10))
    assert merged == expected and len(merged) > 2 * 1024 * 1024 * 4
    rows = list(csv.DictReader(io.StringIO(merged.decode("utf-8"))))
    assert len(rows) == 45_000 and rows[0]["name"] == 'Ana, "Nana" Díaz'
    assert (mailed, emailed) == (
        sum(r["channel"] == "mail" for r in rows),
        sum(r["channel"] == "email" for r in rows),
    )
    assert calls.count("UploadPart") >= 2 and calls.count("CompleteMultipartUpload") == 1
    assert "PutObject" not in calls


def test_a_failed_streamed_write_leaves_no_object_and_no_parts(s3, monkeypatch):
    monkeypatch.setattr(S3ObjectStore, "PART_SIZE", 5 * 1024 * 1024)
    store = S3ObjectStore()

    def chunks():
        yield b"x" * (6 * 1024 * 1024)
        raise OSError("simulated: a batch manifest could not be read")

    with pytest.raises(OSError, match="simulated"):
        store.put_stream("letters", "out.csv", chunks())
    assert not store.exists("letters", "out.csv")
    assert s3.list_multipart_uploads(Bucket="letters").get("Uploads", []) == []


def test_a_small_object_is_one_put(s3, monkeypatch):
    store = S3ObjectStore()
    assert store.put_stream("letters", "small.csv", [b"a,b\n", b"1,2\n"], "text/csv") == 8
    assert store.get("letters", "small.csv") == b"a,b\n1,2\n"
    assert s3.head_object(Bucket="letters", Key="small.csv")["ContentType"] == "text/csv"


def test_a_manifest_of_another_layout_is_refused_by_name():
    store = MemoryObjectStore()
    prefix = letters_prefix("camp", "C1")
    store.put("letters", f"{prefix}/batch-00000.manifest.csv", manifest(0, 3))
    store.put("letters", f"{prefix}/batch-00001.manifest.csv", b"piece_id,member_id\np,M\n")
    with pytest.raises(ValueError, match=r"batch-00001.manifest.csv: not a manifest of this version"):
        merge_client_manifest(store, "letters", "camp", "C1")
