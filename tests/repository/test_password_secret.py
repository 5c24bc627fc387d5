"""The job forgets its deleted password secret: one conditional write, idempotent."""

from __future__ import annotations

from typing import TYPE_CHECKING

from state.models import StepStatus
from state.repository import JobRepository
from tests.repository.support import given_batch, given_claimed, given_settled, stored_job_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


def test_forgetting_clears_the_reference_and_stamps_when(repo: JobRepository) -> None:
    # given a settled job whose config references its password secret
    _, (job,) = given_batch(repo)
    settled, _ = given_settled(repo, job)
    assert settled.execution_config is not None
    ref = settled.execution_config.account.password_secret_ref
    assert ref is not None

    # when the repository forgets that reference
    assert repo.forget_password_secret(job.job_id, ref) is True

    # then the job references no secret, says when it was deleted, and nothing else moved
    after = repo.get_job(job.job_id)
    assert after.execution_config is not None
    account = after.execution_config.account
    assert account.password_secret_ref is None
    assert account.password_deleted_at is not None
    assert account.password_given
    unchanged = {"execution_config", "updated_at"}
    assert after.model_dump(exclude=unchanged) == settled.model_dump(exclude=unchanged)
    assert after.execution_config.model_dump(exclude={"account"}) == (
        settled.execution_config.model_dump(exclude={"account"})
    )


def test_forgetting_again_or_another_reference_writes_nothing(
    repo: JobRepository, table: Table
) -> None:
    # given a job whose reference was forgotten already
    _, (job,) = given_batch(repo)
    settled, _ = given_settled(repo, job)
    assert settled.execution_config is not None
    ref = settled.execution_config.account.password_secret_ref
    assert ref is not None
    repo.forget_password_secret(job.job_id, ref)
    item = stored_job_item(table, job.job_id)

    # when it is forgotten again, or a reference the job does not hold is forgotten
    again = repo.forget_password_secret(job.job_id, ref)
    other = repo.forget_password_secret(job.job_id, "arn:another#version=v")

    # then both answer False and the item is exactly as it was
    assert again is False and other is False
    assert stored_job_item(table, job.job_id) == item


def test_forgetting_works_while_a_run_holds_the_job(repo: JobRepository) -> None:
    # given a job claimed by a run (the status and the claim are not what the write checks)
    _, (job,) = given_batch(repo)
    claimed, arn = given_claimed(repo, job)
    assert claimed.execution_config is not None
    ref = claimed.execution_config.account.password_secret_ref
    assert ref is not None

    # when the reference is forgotten
    assert repo.forget_password_secret(job.job_id, ref) is True

    # then the run still holds the job, its status unchanged
    after = repo.get_job(job.job_id)
    assert after.active_execution == arn and after.status == StepStatus.IN_PROGRESS
