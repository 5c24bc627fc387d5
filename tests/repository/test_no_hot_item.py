"""No hot item: jobs of one batch claimed and settled all at once never contend on the batch.

A job's status change is one conditional write on the job alone; the batch's counts are derived
from its jobs' listings (domain.summary.job_counts). DynamoDB Local only, like every race here:
moto 5.2.5 does not make a conditional write atomic (docs/dynamodb-local.md, difference 1).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import pytest

from domain.outcome import ExecutionStatus
from domain.settlement import settle_execution
from domain.summary import job_counts, summarize
from state.models import Job, StepStatus
from state.repository import JobRepository
from tests.repository.support import (
    Engine,
    given_batch,
    given_claimed,
    other_handles,
    status_tally,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

JOBS = 200
THREADS = 8


@pytest.mark.parametrize("engine", ["dynamodb_local"], indirect=True)
def test_200_jobs_of_one_batch_claimed_and_settled_at_once_count_exactly(
    repo: JobRepository, table: Table, engine: Engine
) -> None:
    # Given a batch of 200 jobs, and 8 callers, each with its own connection
    batch, jobs = given_batch(repo, JOBS)
    repos = [
        JobRepository(handle, summarize=summarize)
        for handle in other_handles(engine, table, THREADS)
    ]
    start = threading.Barrier(THREADS)
    local = threading.local()
    ids = iter(range(THREADS))
    lock = threading.Lock()

    def caller() -> JobRepository:
        if not hasattr(local, "repo"):
            with lock:
                local.repo = repos[next(ids)]
            start.wait()  # every caller begins together
        mine: JobRepository = local.repo
        return mine

    def claim_and_settle(i_job: tuple[int, Job]) -> None:
        i, job = i_job
        mine = caller()
        _, arn = given_claimed(mine, job)
        outcome = ExecutionStatus.SUCCEEDED if i % 2 else ExecutionStatus.FAILED
        settle_execution(mine, job.job_id, arn, outcome, None if i % 2 else "boom")

    # When they claim and settle every job at once (any ConflictError would surface here)
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        list(pool.map(claim_and_settle, enumerate(jobs)))

    # Then no job is left held, and the counts from the listings are exactly the jobs' own
    stored = [repo.get_job(job.job_id) for job in jobs]
    assert all(job.active_execution is None for job in stored)
    assert job_counts(repo.list_listings(batch.batch_id)) == status_tally(repo, jobs)
    counts = status_tally(repo, jobs)
    assert counts[StepStatus.IN_PROGRESS] == 0
    assert sum(counts.values()) == JOBS
    assert counts[StepStatus.COMPLETED] == JOBS // 2
