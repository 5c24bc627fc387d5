"""Secrets Manager keeps each Step 5 submission's password as its own pinned version."""

from __future__ import annotations

import os
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from clients.secrets import SecretsManagerStore


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
