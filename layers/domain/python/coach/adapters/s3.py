"""The object store on S3 (ports.ObjectStore)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from botocore.exceptions import ClientError

from coach.adapters.aws import client
from coach.ports import NotFound


class S3ObjectStore:
    def __init__(self, kms_key_id: str | None = None) -> None:
        self._kms_key_id = kms_key_id

    def put(self, bucket: str, key: str, body: bytes, content_type: str = "application/octet-stream") -> None:
        extra: dict[str, str] = {}
        if self._kms_key_id:
            extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self._kms_key_id}
        client("s3").put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type, **extra)

    def put_new(
        self, bucket: str, key: str, body: bytes, content_type: str = "application/octet-stream"
    ) -> bool:
        extra: dict[str, str] = {}
        if self._kms_key_id:
            extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self._kms_key_id}
        try:
            client("s3").put_object(
                Bucket=bucket, Key=key, Body=body, ContentType=content_type, IfNoneMatch="*", **extra
            )
            return True
        except ClientError as exc:
            # 412: the key exists; 409: another conditional write of this key is under way (it wins)
            if exc.response["Error"]["Code"] in ("PreconditionFailed", "ConditionalRequestConflict"):
                return False
            raise

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
