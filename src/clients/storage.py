"""Object storage for generated files and import documents (S3)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class ObjectStore(Protocol):
    def put_text(self, key: str, text: str, content_type: str) -> None: ...

    def get_text(self, key: str) -> str: ...


class S3ObjectStore:
    def __init__(self, client: S3Client, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    def put_text(self, key: str, text: str, content_type: str) -> None:
        # Same key, same bytes: a repeated put is harmless, so no idempotency record is needed.
        self._client.put_object(
            Bucket=self._bucket, Key=key, Body=text.encode(), ContentType=content_type
        )

    def get_text(self, key: str) -> str:
        body = self._client.get_object(Bucket=self._bucket, Key=key)["Body"]
        return body.read().decode()
