"""Account passwords are encrypted under the stack's KMS key, bound to their owner; the
ciphertext is the reference, and forgetting it is the deletion."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from clients.secrets import REF_PREFIX, KmsPasswordStore, SecretStoreError

KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.fixture
def store() -> Iterator[KmsPasswordStore]:
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        kms = boto3.client("kms", region_name="us-east-1")
        key = kms.create_key(Description="passwords")["KeyMetadata"]["Arn"]
        yield KmsPasswordStore(kms, key)


def test_a_reference_reads_back_its_own_password(store: KmsPasswordStore) -> None:
    ref = store.put_password("job-1", "first-pass-123")
    assert store.get_password(ref) == "first-pass-123"
    assert ref.startswith(f"{REF_PREFIX}job-1:")
    assert "first-pass-123" not in ref


def test_racing_submissions_each_keep_their_own_reference(store: KmsPasswordStore) -> None:
    # given two submissions for one job encrypting their passwords one after the other
    winner = store.put_password("job-1", "winner-pass-123")
    loser = store.put_password("job-1", "loser-pass-1234")
    # then each reference reads its own password
    assert store.get_password(winner) == "winner-pass-123"
    assert store.get_password(loser) == "loser-pass-1234"


def test_a_ciphertext_moved_onto_another_owner_does_not_decrypt(store: KmsPasswordStore) -> None:
    # given job-1's reference, its owner rewritten to job-2's (a copied item, a tampered one)
    ref = store.put_password("job-1", "first-pass-123")
    moved = ref.replace(f"{REF_PREFIX}job-1:", f"{REF_PREFIX}job-2:", 1)
    # when job-2 reads it, then KMS refuses: the encryption context names job-1
    with pytest.raises(SecretStoreError) as raised:
        store.get_password(moved)
    assert "not decrypted" in str(raised.value)


def test_a_damaged_reference_is_a_secret_store_error(store: KmsPasswordStore) -> None:
    for ref in ("arn:aws:secretsmanager:us-east-1:1:secret:x", f"{REF_PREFIX}job-1:%%%"):
        with pytest.raises(SecretStoreError):
            store.get_password(ref)


def test_deleting_calls_nothing_and_may_be_repeated() -> None:
    # given a KMS client that answers nothing (a stub with no responses queued)
    client = boto3.client("kms", region_name="us-east-1")
    ref = f"{REF_PREFIX}job-1:{base64.b64encode(b'ciphertext').decode()}"
    with Stubber(client) as stub:
        # when the password is deleted twice, then no request is made (the caller forgets it)
        store = KmsPasswordStore(client, KEY)
        store.delete_password(ref)
        store.delete_password(ref)
        stub.assert_no_pending_responses()


def test_a_refused_encryption_is_a_secret_store_error_from_its_cause() -> None:
    # given KMS throttling the encryption
    client = boto3.client("kms", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_client_error("encrypt", service_error_code="ThrottlingException")
        # when a password is stored, then the error says so and keeps its cause
        with pytest.raises(SecretStoreError) as raised:
            KmsPasswordStore(client, KEY).put_password("job-1", "first-pass-123")
    assert raised.value.__cause__ is not None
    assert "ThrottlingException" in str(raised.value)
