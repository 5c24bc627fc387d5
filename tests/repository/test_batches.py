"""Batches and jobs: creation (never overwriting), reads, and the org boundary."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from state.errors import ConflictError, NotFoundError
from state.models import Batch, StepStatus
from state.repository import JobRepository
from tests.factories import make_job

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table
from tests.repository.support import ORG, OTHER_ORG, batch_counts, given_batch, stored_job_item


def test_create_batch_stores_the_batch_its_jobs_and_their_counts(repo: JobRepository) -> None:
    # Given three restaurants of a new batch
    batch = Batch(batch_id="b-create", org_id=ORG, name="Wellington November")
    jobs = [
        make_job(name, batch_id="b-create") for name in ("Cafe Aroha", "Kai Kitchen", "Moana Pies")
    ]

    # When the batch is created
    repo.create_batch(batch, jobs)

    # Then the batch's jobs count by status (from their listings), and every job reads back
    # as it was written
    stored = repo.get_batch(ORG, "b-create")
    assert stored.name == "Wellington November"
    assert batch_counts(repo, "b-create") == {
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
    assert repo.list_batches(OTHER_ORG, limit=10).items == []
    assert repo.get_job_for_org(ORG, job.job_id) == job
    assert [b.batch_id for b in repo.list_batches(ORG, limit=10).items] == [batch.batch_id]


def test_list_batches_is_newest_first_per_org(repo: JobRepository) -> None:
    # Given two batches of org A (created in this order) and one of org B
    first, _ = given_batch(repo, 1, name="October")
    second, _ = given_batch(repo, 1, name="November")
    given_batch(repo, 1, org=OTHER_ORG, name="Elsewhere")

    # When org A lists its batches, then it gets its own two, newest first
    assert [b.name for b in repo.list_batches(ORG, limit=10).items] == ["November", "October"]
    assert second.created_at > first.created_at


def test_list_batches_pages_from_where_the_last_page_ended(repo: JobRepository) -> None:
    # Given three batches of org A
    names = ["One", "Two", "Three"]
    for name in names:
        given_batch(repo, 1, name=name)

    # When they are listed two at a time
    first = repo.list_batches(ORG, limit=2)
    assert first.next_key is not None
    second = repo.list_batches(ORG, limit=2, start=first.next_key)

    # Then the pages hold every batch once, newest first
    assert [b.name for b in first.items + second.items] == ["Three", "Two", "One"]


def test_unknown_ids_are_not_found(repo: JobRepository) -> None:
    with pytest.raises(NotFoundError):
        repo.get_batch(ORG, "no-such-batch")
    with pytest.raises(NotFoundError):
        repo.get_job("no-such-job")
    assert repo.list_jobs("no-such-batch") == []
    assert repo.get_jobs(["no-such-job"]) == []


def test_a_job_is_two_items_read_back_as_one(repo: JobRepository, table: Table) -> None:
    # Given a stored job
    _, (job,) = given_batch(repo, 1)

    # Then its restaurant is an item of its own, and its own item holds no menu
    own = stored_job_item(table, job.job_id)
    assert "restaurant" not in own
    assert own["summary"]["restaurant_name"] == job.restaurant.name
    # and get_job, get_jobs and list_jobs all give the whole job back
    assert repo.get_job(job.job_id) == job
    assert repo.get_jobs([job.job_id, "missing", job.job_id]) == [job]
    assert repo.list_jobs(job.batch_id) == [job]


def test_restaurant_names_are_read_for_more_jobs_than_one_batch_get_takes(
    repo: JobRepository,
) -> None:
    # Given more jobs than one BatchGetItem call takes (100 keys)
    _, jobs = given_batch(repo, 105)
    ids = [job.job_id for job in jobs]
    # When their names are read, with an unknown id and a repeated one among them
    names = repo.restaurant_names([*ids, "missing", ids[0]])
    # Then every stored job is named by its restaurant, the unknown one left out
    assert names == {job.job_id: job.restaurant.name for job in jobs}


def test_listings_carry_the_summary_and_no_progress(repo: JobRepository) -> None:
    # Given a batch of two jobs
    batch, jobs = given_batch(repo, 2)

    # When its listings are read
    listings = repo.list_listings(batch.batch_id)

    # Then each carries the job's standing and summary, oldest first
    assert [x.job_id for x in listings] == [j.job_id for j in jobs]
    for listing, job in zip(listings, jobs, strict=True):
        assert listing.status == job.status and listing.steps == job.steps
        assert listing.summary.restaurant_name == job.restaurant.name
        assert listing.summary.name_lower == job.restaurant.name.casefold()
        assert not listing.summary.needs_action
    assert repo.list_failures(ORG) == []
