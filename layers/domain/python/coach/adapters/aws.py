"""boto3 adapters. Clients are created lazily and cached, never at import time."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from coach.ports import NotFound

_RETRIES = Config(retries={"max_attempts": 8, "mode": "adaptive"})


@cache
def client(service: str, region: str | None = None) -> Any:
    return boto3.client(service, region_name=region, config=_RETRIES)  # type: ignore[call-overload]


def reset_clients() -> None:
    """Forget cached clients (the local runtime calls this when it starts a fresh mock)."""
    client.cache_clear()


class S3ObjectStore:
    def __init__(self, kms_key_id: str | None = None) -> None:
        self._kms_key_id = kms_key_id

    def put(self, bucket: str, key: str, body: bytes, content_type: str = "application/octet-stream") -> None:
        extra: dict[str, str] = {}
        if self._kms_key_id:
            extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self._kms_key_id}
        client("s3").put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type, **extra)

    def get(self, bucket: str, key: str) -> bytes:
        try:
            return client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("NoSuchKey", "404"):
                raise NotFound(f"s3://{bucket}/{key}") from exc
            raise

    def exists(self, bucket: str, key: str) -> bool:
        try:
            client("s3").head_object(Bucket=bucket, Key=key)
            return True
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("NoSuchKey", "404", "NotFound"):
                return False
            raise

    def list_keys(self, bucket: str, prefix: str) -> Iterator[str]:
        paginator = client("s3").get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                yield item["Key"]

    # S3 parts are 5 MiB to 5 GiB, at most 10,000 of them: 16 MiB parts hold objects up to 156 GiB.
    PART_SIZE = 16 * 1024 * 1024

    def put_stream(
        self, bucket: str, key: str, chunks: Iterable[bytes], content_type: str = "application/octet-stream"
    ) -> int:
        """A multipart upload of PART_SIZE parts (one PutObject when the whole fits in one part): memory holds one
        part, whatever the object's size. A failure aborts the upload, so no partial object or stray parts stay."""
        s3 = client("s3")
        extra: dict[str, str] = {}
        if self._kms_key_id:
            extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self._kms_key_id}
        buffer = bytearray()
        upload_id: str | None = None
        parts: list[dict[str, object]] = []
        size = 0
        try:
            for chunk in chunks:
                buffer += chunk
                size += len(chunk)
                while len(buffer) >= self.PART_SIZE:
                    if upload_id is None:
                        upload_id = s3.create_multipart_upload(
                            Bucket=bucket, Key=key, ContentType=content_type, **extra
                        )["UploadId"]
                    number = len(parts) + 1
                    response = s3.upload_part(
                        Bucket=bucket,
                        Key=key,
                        UploadId=upload_id,
                        PartNumber=number,
                        Body=bytes(buffer[: self.PART_SIZE]),
                    )
                    parts.append({"PartNumber": number, "ETag": response["ETag"]})
                    del buffer[: self.PART_SIZE]
            if upload_id is None:
                s3.put_object(Bucket=bucket, Key=key, Body=bytes(buffer), ContentType=content_type, **extra)
                return size
            if buffer:
                number = len(parts) + 1
                response = s3.upload_part(
                    Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=bytes(buffer)
                )
                parts.append({"PartNumber": number, "ETag": response["ETag"]})
            s3.complete_multipart_upload(
                Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
            return size
        except BaseException:
            if upload_id is not None:
                s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
            raise


class StepFunctionsCallbacks:
    def succeed(self, task_token: str, output: dict) -> None:
        client("stepfunctions").send_task_success(taskToken=task_token, output=json.dumps(output))

    def fail(self, task_token: str, error: str, cause: str) -> None:
        client("stepfunctions").send_task_failure(taskToken=task_token, error=error, cause=cause)


class StateMachineStarter:
    def __init__(self, state_machine_arn: str) -> None:
        self._arn = state_machine_arn

    # StartExecution of a Standard workflow is idempotent: the same name and input as a *running* execution
    # succeeds and returns that execution (with its own startDate); only a closed execution or another input
    # raises ExecutionAlreadyExists. A start dated well before this call is therefore a repeat delivery. The
    # margin covers clock skew; a repeat within it is reported as started (there is still one execution).
    REPEAT_MARGIN = timedelta(seconds=2)

    def start(self, name: str, input_json: str) -> bool:
        asked_at = datetime.now(UTC)
        try:
            response = client("stepfunctions").start_execution(
                stateMachineArn=self._arn, name=name, input=input_json
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ExecutionAlreadyExists":
                return False
            raise
        started_at = response["startDate"]
        if started_at.tzinfo is None:
            started_at = started_at.replace(tzinfo=UTC)
        return bool(started_at >= asked_at - self.REPEAT_MARGIN)
