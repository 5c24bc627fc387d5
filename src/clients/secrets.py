"""The account password, encrypted under the stack's KMS key; the ciphertext is the reference.

Envelope storage, not one Secrets Manager secret per job: a secret is billed per hour it
exists (at least one), which made storage the largest share of a job's cost, while a KMS
request costs a thousandth of that and the key is one fixed monthly fee for the whole stack
(docs/architecture.md §6, "Passwords"; `make bench` measures both).

- `put_password` asks KMS to encrypt the password with an encryption context naming its owner
  (a job or an operation) and the purpose. The reference holds the owner and the ciphertext;
  it is stored where the job (or operation) keeps its config, never in a log or an answer.
- `get_password` decrypts with the same context: a ciphertext copied onto another job does
  not decrypt there, and only the roles granted `kms:Decrypt` on the key (the phase that
  creates the account, the operation item that hands an operation's password to its jobs)
  can read any password at all.
- `delete_password` has nothing to delete: the ciphertext exists only in the reference, and
  the caller forgets the reference (domain.passwords clears it from the job). It is kept on
  the port so the rules of when a password is spent stay the same whatever the store.
- Each submission encrypts anew (a fresh data key inside KMS's ciphertext), so two Step 5
  submissions racing for one job each hold their own reference, and the winner's run reads
  its own password.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Protocol

from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

REF_PREFIX = "kms:v1:"
PURPOSE = "pumpd-account-password"


class SecretStoreError(Exception):
    """The key service refused or failed a request (throttled, denied, unavailable), or a
    reference cannot be read."""


class SecretStore(Protocol):
    def put_password(self, owner_id: str, password: str) -> str:
        """Store the password for its owner (a job or an operation); return its reference."""
        ...

    def get_password(self, ref: str) -> str: ...

    def delete_password(self, ref: str) -> None:
        """Make the password unreadable for good; one already gone counts as deleted."""
        ...


def _context(owner_id: str) -> dict[str, str]:
    return {"purpose": PURPOSE, "owner": owner_id}


def _parse(ref: str) -> tuple[str, bytes]:
    if not ref.startswith(REF_PREFIX):
        raise SecretStoreError("not a password reference of this store")
    owner, _, blob = ref[len(REF_PREFIX) :].rpartition(":")
    try:
        return owner, base64.b64decode(blob, validate=True)
    except (binascii.Error, ValueError) as error:
        raise SecretStoreError("a password reference whose ciphertext is damaged") from error


class KmsPasswordStore:
    def __init__(self, client: KMSClient, key_id: str) -> None:
        self._client = client
        self._key_id = key_id

    def put_password(self, owner_id: str, password: str) -> str:
        try:
            blob = self._client.encrypt(
                KeyId=self._key_id,
                Plaintext=password.encode(),
                EncryptionContext=_context(owner_id),
            )["CiphertextBlob"]
        except (ClientError, BotoCoreError) as error:
            raise SecretStoreError(f"the password was not encrypted: {error}") from error
        return f"{REF_PREFIX}{owner_id}:{base64.b64encode(blob).decode()}"

    def get_password(self, ref: str) -> str:
        owner, blob = _parse(ref)
        try:
            plain = self._client.decrypt(
                KeyId=self._key_id, CiphertextBlob=blob, EncryptionContext=_context(owner)
            )["Plaintext"]
        except (ClientError, BotoCoreError) as error:
            raise SecretStoreError(f"the password was not decrypted: {error}") from error
        return plain.decode()

    def delete_password(self, ref: str) -> None:
        # Nothing outside the reference holds it: the caller's forgetting it is the deletion.
        _parse(ref)
