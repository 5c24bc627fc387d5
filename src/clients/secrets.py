"""The account password lives in Secrets Manager; jobs keep only a reference to it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient


class SecretStore(Protocol):
    def put_password(self, job_id: str, password: str) -> str:
        """Store the password and return its reference."""
        ...

    def get_password(self, ref: str) -> str: ...


class SecretsManagerStore:
    def __init__(self, client: SecretsManagerClient, prefix: str) -> None:
        self._client = client
        self._prefix = prefix.rstrip("/")

    def put_password(self, job_id: str, password: str) -> str:
        name = f"{self._prefix}/jobs/{job_id}/account-password"
        try:
            return self._client.create_secret(Name=name, SecretString=password)["ARN"]
        except self._client.exceptions.ResourceExistsException:
            return self._client.put_secret_value(SecretId=name, SecretString=password)["ARN"]

    def get_password(self, ref: str) -> str:
        return self._client.get_secret_value(SecretId=ref)["SecretString"]
