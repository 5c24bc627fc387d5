"""Secrets Manager keeps each Step 5 submission's password as its own pinned version, until the
whole secret is deleted for good."""

from __future__ import annotations

import os
from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws

from clients.secrets import VERSION_SEPARATOR, SecretsManagerStore, SecretStoreError

ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:p/jobs/job-1/account-password-AbCdEf"


@pytest.fixture
def store() -> Iterator[SecretsManagerStore]:
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield SecretsManagerStore(boto3.client("secretsmanager", region_name="us-east-1"), "p/")


def test_a_reference_reads_back_its_own_password(store: SecretsManagerStore) -> None:
    ref = store.put_password("job-1", "first-pass-123")
    assert store.get_password(ref) == "first-pass-123"
    assert "first-pass-123" not in ref


def test_racing_submissions_each_keep_their_own_version(store: SecretsManagerStore) -> None:
    # given two submissions for one job writing their passwords one after the other
    winner = store.put_password("job-1", "winner-pass-123")
    loser = store.put_password("job-1", "loser-pass-1234")
    # then the winner's reference still reads the winner's password
    assert store.get_password(winner) == "winner-pass-123"
    assert store.get_password(loser) == "loser-pass-1234"


def test_deleting_removes_the_secret_with_every_version(store: SecretsManagerStore) -> None:
    # given a job's secret with two versions (a resubmission)
    store.put_password("job-1", "first-pass-123")
    ref = store.put_password("job-1", "second-pass-123")
    # when it is deleted through the reference to one version
    store.delete_password(ref)
    # then the whole secret is gone at once (no recovery window) and cannot be read
    client = boto3.client("secretsmanager", region_name="us-east-1")
    assert client.list_secrets(IncludePlannedDeletion=True)["SecretList"] == []
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        store.get_password(ref)


def test_deleting_a_secret_already_gone_succeeds(store: SecretsManagerStore) -> None:
    # given a secret deleted by an earlier attempt
    ref = store.put_password("job-1", "first-pass-123")
    store.delete_password(ref)
    # when it is deleted again, it is done (no error)
    store.delete_password(ref)


def test_deleting_answers_not_found_as_done() -> None:
    # given Secrets Manager answering that the secret does not exist
    client = boto3.client("secretsmanager", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_client_error("delete_secret", service_error_code="ResourceNotFoundException")
        # when the password is deleted, then that counts as deleted
        SecretsManagerStore(client, "p/").delete_password(f"{ARN}{VERSION_SEPARATOR}v1")
        stub.assert_no_pending_responses()


def test_any_other_refusal_is_a_secret_store_error_from_its_cause() -> None:
    # given Secrets Manager refusing the deletion (throttled)
    client = boto3.client("secretsmanager", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_client_error(
            "delete_secret",
            service_error_code="ThrottlingException",
            expected_params={"SecretId": ARN, "ForceDeleteWithoutRecovery": True},
        )
        # when the password is deleted, then the domain error is raised, the cause chained
        with pytest.raises(SecretStoreError) as raised:
            SecretsManagerStore(client, "p/").delete_password(f"{ARN}{VERSION_SEPARATOR}v1")
    assert isinstance(raised.value.__cause__, ClientError)
    assert raised.value.__cause__.response["Error"]["Code"] == "ThrottlingException"
