"""The account password lives in Secrets Manager; jobs keep only a reference to it.

A job's secret lives only while a sub-step may still read it (domain.passwords decides when;
docs/architecture.md §6, "Passwords"). It is then deleted with `ForceDeleteWithoutRecovery`,
not scheduled for deletion with a recovery window, because:

- nothing can need it again: the one sub-step that reads it (`cloudwaitressAccount`) has
  completed and is never re-run, so a copy kept for recovery would serve no one;
- a recovery window is at least 7 days, during which the encrypted password still exists and
  anyone allowed `RestoreSecret` can bring it back; it is not billed meanwhile ("There is no
  charge for secrets that you have marked for deletion", AWS Secrets Manager User Guide,
  "Delete an AWS Secrets Manager secret"), so a window would buy nothing on cost either;
- deleting is idempotent: a forced delete of a secret already deleted does not answer
  `ResourceNotFoundException` on AWS (DeleteSecret, `ForceDeleteWithoutRecovery`), and a not
  found answer (other stores, moto) is treated as done all the same.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient


VERSION_SEPARATOR = "#version="


class SecretStoreError(Exception):
    """The secret store refused or failed a request (throttled, denied, unavailable)."""


def secret_name(prefix: str, job_id: str) -> str:
    """The name of a job's password secret under the stack's secrets prefix."""
    return f"{prefix.rstrip('/')}/jobs/{job_id}/account-password"


class SecretStore(Protocol):
    def put_password(self, job_id: str, password: str) -> str:
        """Store the password and return its reference."""
        ...

    def get_password(self, ref: str) -> str: ...

    def delete_password(self, ref: str) -> None:
        """Delete the secret for good; one already gone counts as deleted (SecretStoreError)."""
        ...


class SecretsManagerStore:
    """One secret per job; each submission is its own version, and the reference pins it.

    Two Step 5 submissions racing for one job each write a version, but only the winner's
    reference reaches the job, so its run reads its own password, never the loser's.
    """

    def __init__(self, client: SecretsManagerClient, prefix: str) -> None:
        self._client = client
        self._prefix = prefix

    def put_password(self, job_id: str, password: str) -> str:
        name = secret_name(self._prefix, job_id)
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

    def delete_password(self, ref: str) -> None:
        # The whole secret goes, every version with it: a reference pins one version only.
        arn, _, _ = ref.partition(VERSION_SEPARATOR)
        try:
            self._client.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
        except self._client.exceptions.ResourceNotFoundException:
            return
        except self._client.exceptions.ClientError as error:
            raise SecretStoreError(f"the password secret was not deleted: {error}") from error
