"""The account password lives in Secrets Manager; jobs keep only a reference to it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient


VERSION_SEPARATOR = "#version="


class SecretStore(Protocol):
    def put_password(self, job_id: str, password: str) -> str:
        """Store the password and return its reference."""
        ...

    def get_password(self, ref: str) -> str: ...


class SecretsManagerStore:
    """One secret per job; each submission is its own version, and the reference pins it.

    Two Step 5 submissions racing for one job each write a version, but only the winner's
    reference reaches the job, so its run reads its own password, never the loser's.
    """

    def __init__(self, client: SecretsManagerClient, prefix: str) -> None:
        self._client = client
        self._prefix = prefix.rstrip("/")

    def put_password(self, job_id: str, password: str) -> str:
        name = f"{self._prefix}/jobs/{job_id}/account-password"
        try:
            created = self._client.create_secret(Name=name, SecretString=password)
            arn, version = created["ARN"], created["VersionId"]
        except self._client.exceptions.ResourceExistsException:
            put = self._client.put_secret_value(SecretId=name, SecretString=password)
            arn, version = put["ARN"], put["VersionId"]
        return f"{arn}{VERSION_SEPARATOR}{version}"

    def get_password(self, ref: str) -> str:
        arn, _, version = ref.partition(VERSION_SEPARATOR)
        if version:
            return self._client.get_secret_value(SecretId=arn, VersionId=version)["SecretString"]
        return self._client.get_secret_value(SecretId=arn)["SecretString"]
