"""The job forgets its deleted password secret: one conditional write, idempotent."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from state.models import Job
from state.repository import JobRepository
from tests.repository.support import given_batch, given_claimed, given_settled, unchanged_job_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


def password_ref(job: Job) -> str:
    """The password secret the job's config references (it must reference one)."""
    assert job.execution_config is not None
    ref = job.execution_config.account.password_secret_ref
    assert ref is not None
    return ref


@pytest.mark.parametrize(
    "given_run",
    [
        pytest.param(given_settled, id="settled"),
        # the status and the claim are not what the write checks
        pytest.param(given_claimed, id="held-by-a-run"),
    ],
)
def test_forgetting_clears_the_reference_and_stamps_when(
    repo: JobRepository, given_run: Callable[[JobRepository, Job], tuple[Job, str]]
) -> None:
    # given a job, settled or held by a run, whose config references its password secret
    _, (job,) = given_batch(repo)
    before, _ = given_run(repo, job)
    ref = password_ref(before)

    # when the repository forgets that reference
    assert repo.forget_password_secret(job.job_id, ref) is True

    # then the job references no secret, says when it was deleted, and nothing else moved
    after = repo.get_job(job.job_id)
    assert after.execution_config is not None and before.execution_config is not None
    account = after.execution_config.account
    assert account.password_secret_ref is None
    assert account.password_deleted_at is not None
    assert account.password_given
    unchanged = {"execution_config", "updated_at"}
    assert after.model_dump(exclude=unchanged) == before.model_dump(exclude=unchanged)
    assert after.execution_config.model_dump(exclude={"account"}) == (
        before.execution_config.model_dump(exclude={"account"})
    )
    # (a run that held the job still holds it, its status unchanged)
    assert after.active_execution == before.active_execution and after.status == before.status


def test_forgetting_again_or_another_reference_writes_nothing(
    repo: JobRepository, table: Table
) -> None:
    # given a job whose reference was forgotten already
    _, (job,) = given_batch(repo)
    settled, _ = given_settled(repo, job)
    ref = password_ref(settled)
    repo.forget_password_secret(job.job_id, ref)

    # when it is forgotten again, or a reference the job does not hold is forgotten
    with unchanged_job_item(table, job.job_id):
        again = repo.forget_password_secret(job.job_id, ref)
        other = repo.forget_password_secret(job.job_id, "arn:another#version=v")

    # then both answer False and the item is exactly as it was
    assert again is False and other is False
