"""Batches and jobs: creation (never overwriting), reads, and the org boundary."""

from __future__ import annotations

import pytest

from state.errors import ConflictError, NotFoundError
from state.models import Batch, StepStatus
from state.repository import JobRepository
from tests.factories import make_job
from tests.repository.support import ORG, OTHER_ORG, given_batch


def test_create_batch_stores_the_batch_its_jobs_and_their_counts(repo: JobRepository) -> None:
    # Given three restaurants of a new batch
    batch = Batch(batch_id="b-create", org_id=ORG, name="Wellington November")
    jobs = [
        make_job(name, batch_id="b-create") for name in ("Cafe Aroha", "Kai Kitchen", "Moana Pies")
    ]

    # When the batch is created
    repo.create_batch(batch, jobs)

    # Then the batch counts its jobs by status, and every job reads back as it was written
    stored = repo.get_batch(ORG, "b-create")
    assert stored.name == "Wellington November"
    assert stored.job_counts == {
        s: (3 if s == StepStatus.ACTION_REQUIRED else 0) for s in StepStatus
    }
    assert {job.job_id: job for job in repo.list_jobs("b-create")} == {
        job.job_id: job for job in jobs
    }
    for job in jobs:
        assert repo.get_job(job.job_id) == job


def test_create_batch_never_overwrites_an_existing_batch(repo: JobRepository) -> None:
    # Given a stored batch
    batch, jobs = given_batch(repo, 2, name="First")

    # When a batch with the same id is created again
    again = Batch(batch_id=batch.batch_id, org_id=ORG, name="Second")
    intruder = make_job("Kai Kitchen", batch_id=batch.batch_id)
    with pytest.raises(ConflictError, match="already exists"):
        repo.create_batch(again, [intruder])

    # Then the first batch and its jobs are untouched, and the second batch's job was not written
    assert repo.get_batch(ORG, batch.batch_id) == batch
    assert sorted(j.job_id for j in repo.list_jobs(batch.batch_id)) == sorted(
        j.job_id for j in jobs
    )
    with pytest.raises(NotFoundError):
        repo.get_job(intruder.job_id)


def test_batches_and_jobs_are_visible_to_their_own_org_only(repo: JobRepository) -> None:
    # Given a batch of org A
    batch, (job,) = given_batch(repo, 1, org=ORG)

    # When org B asks for it, then it does not exist for B; A sees it
    with pytest.raises(NotFoundError):
        repo.get_batch(OTHER_ORG, batch.batch_id)
    with pytest.raises(NotFoundError):
        repo.get_job_for_org(OTHER_ORG, job.job_id)
    assert repo.list_batches(OTHER_ORG) == []
    assert repo.get_job_for_org(ORG, job.job_id) == job
    assert [b.batch_id for b in repo.list_batches(ORG)] == [batch.batch_id]


def test_list_batches_is_newest_first_per_org(repo: JobRepository) -> None:
    # Given two batches of org A (created in this order) and one of org B
    first, _ = given_batch(repo, 1, name="October")
    second, _ = given_batch(repo, 1, name="November")
    given_batch(repo, 1, org=OTHER_ORG, name="Elsewhere")

    # When org A lists its batches, then it gets its own two, newest first
    assert [b.name for b in repo.list_batches(ORG)] == ["November", "October"]
    assert second.created_at > first.created_at


def test_unknown_ids_are_not_found(repo: JobRepository) -> None:
    with pytest.raises(NotFoundError):
        repo.get_batch(ORG, "no-such-batch")
    with pytest.raises(NotFoundError):
        repo.get_job("no-such-job")
    assert repo.list_jobs("no-such-batch") == []
