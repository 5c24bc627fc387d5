"""Claims: one execution at a time per job, by conditional writes (docs/architecture.md §5)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

from domain.claims import claim_for_execution, claim_new_run
from domain.outcome import ExecutionStatus
from domain.settlement import settle_execution
from domain.summary import summarize
from state.errors import ConflictError, SupersededExecutionError
from state.models import Job, StepStatus
from state.repository import JobRepository
from tests.repository.support import (
    Engine,
    batch_counts,
    execution_arn,
    given_batch,
    given_claimed,
    given_settled,
    other_handles,
    status_tally,
    stored_job_item,
    unchanged_job_item,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


def test_a_free_job_is_claimed_for_the_expected_run(repo: JobRepository) -> None:
    # Given a job waiting at Step 5, never run
    batch, (job,) = given_batch(repo)
    assert job.run_number == 0 and job.active_execution is None

    # When an execution claims it for run 1
    arn = execution_arn(job, 1)
    claim_new_run(repo, job, arn)

    # Then the job is that execution's, in progress at Step 6, and the batch counted the move
    claimed = repo.get_job(job.job_id)
    assert claimed.active_execution == arn
    assert claimed.latest_execution == arn
    assert claimed.run_number == 1
    assert claimed.status == StepStatus.IN_PROGRESS
    assert claimed.current_step == 6
    assert claimed.step(6).status == StepStatus.IN_PROGRESS
    assert batch_counts(repo, batch.batch_id) == status_tally(repo, [job])


def test_a_second_claim_loses_and_learns_the_active_execution(
    repo: JobRepository, table: Table
) -> None:
    # Given a job claimed by run 1
    batch, (job,) = given_batch(repo)
    _, first = given_claimed(repo, job)

    # When another caller, holding the same pre-claim snapshot, claims it too
    with unchanged_job_item(table, job.job_id), pytest.raises(ConflictError) as raised:
        claim_new_run(repo, job, execution_arn(job, 1) + "-twin")

    # Then it is refused with the execution that holds the job, and nothing changed
    assert raised.value.active_execution == first
    assert batch_counts(repo, batch.batch_id) == status_tally(repo, [job])
    # The transaction was cancelled by the job's condition (and only by it) on both engines.
    cause = raised.value.__cause__
    assert isinstance(cause, ClientError)
    assert cause.response["Error"]["Code"] == "TransactionCanceledException"
    reasons = [r["Code"] for r in cause.response["CancellationReasons"]]
    # the job's condition failed; the batch counters and the run's history row were untouched
    assert reasons[0] == "ConditionalCheckFailed" and set(reasons[1:]) == {"None"}


def test_a_claim_for_a_stale_run_number_loses_even_when_the_job_is_free(
    repo: JobRepository,
) -> None:
    # Given a job whose run 1 has ended (the job is free again)
    _, (job,) = given_batch(repo)
    settled, _ = given_settled(repo, job)
    assert settled.active_execution is None and settled.run_number == 1

    # When a caller that read the job before run 1 claims "run 1" again
    with pytest.raises(ConflictError) as raised:
        claim_new_run(repo, job, execution_arn(job, 1))

    # Then it is refused: the run number moved on; nothing is active
    assert raised.value.active_execution is None
    assert repo.get_job(job.job_id) == settled


def test_a_job_is_free_when_active_execution_is_null_or_absent(
    repo: JobRepository, table: Table
) -> None:
    # Given a job stored with active_execution = NULL (None), and one without the attribute
    _, (null_job, absent_job) = given_batch(repo, 2)
    assert stored_job_item(table, null_job.job_id)["active_execution"] is None
    table.update_item(
        Key={"pk": f"JOB#{absent_job.job_id}", "sk": "JOB"},
        UpdateExpression="REMOVE active_execution",
    )
    assert "active_execution" not in stored_job_item(table, absent_job.job_id)

    # When each is claimed, then both claims pass the attribute_type(..., NULL) /
    # attribute_not_exists condition on this engine
    for job in (null_job, absent_job):
        claim_new_run(repo, job, execution_arn(job, 1))
        assert repo.get_job(job.job_id).active_execution == execution_arn(job, 1)


THREADS = 10


# DynamoDB Local only: moto 5.2.5 checks a write's condition and then applies the write with no
# lock between the two, so racing threads interleave and several claims win (2 to 6 of 10 seen,
# with drifting batch counters; docs/dynamodb-local.md, difference 1). What moto does is not
# deterministic, so no assertion about it could pass reliably and still fail on a regression;
# DynamoDB Local, like DynamoDB, makes each conditional write atomic: exactly one claim wins.
@pytest.mark.parametrize("engine", ["dynamodb_local"], indirect=True)
def test_concurrent_claims_exactly_one_wins(
    repo: JobRepository, table: Table, engine: Engine
) -> None:
    # Given a free job, and ten callers that all read it before any of them claims it
    batch, (job,) = given_batch(repo)
    repos = [
        JobRepository(handle, summarize=summarize)
        for handle in other_handles(engine, table, THREADS)
    ]
    start = threading.Barrier(THREADS)
    outcomes: dict[int, Any] = {}

    def claim(i: int) -> None:
        start.wait()
        try:
            claim_new_run(repos[i], job, execution_arn(job, 1) + f"-caller{i}")
            outcomes[i] = "won"
        except ConflictError as error:
            outcomes[i] = error

    # When they all claim at once
    threads = [threading.Thread(target=claim, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then exactly one wins; every loser learns who holds the job (or that it was taken)
    winners = [i for i, outcome in outcomes.items() if outcome == "won"]
    assert len(outcomes) == THREADS
    assert len(winners) == 1, outcomes
    holder = repo.get_job(job.job_id).active_execution
    assert holder == execution_arn(job, 1) + f"-caller{winners[0]}"
    for outcome in outcomes.values():
        if isinstance(outcome, ConflictError):
            assert outcome.active_execution in (holder, None)
    # And the batch counted one move, not ten
    assert batch_counts(repo, batch.batch_id) == status_tally(repo, [job])


def test_the_owner_passes_claim_for_execution_without_a_write(
    repo: JobRepository, table: Table
) -> None:
    # Given a job held by run 1
    _, (job,) = given_batch(repo)
    claimed, arn = given_claimed(repo, job)

    # When run 1's next state checks its claim
    with unchanged_job_item(table, job.job_id):
        checked = claim_for_execution(repo, job.job_id, arn)

    # Then it passes and the item is untouched (not even updated_at)
    assert checked == claimed


def test_a_redrive_reclaims_the_job_for_the_latest_execution(repo: JobRepository) -> None:
    # Given run 1 failed and was settled: the job is free, run 1 is the latest execution
    batch, (job,) = given_batch(repo)
    settled, arn = given_settled(repo, job)
    assert settled.status == StepStatus.ACTION_REQUIRED and settled.latest_execution == arn

    # When run 1 is redriven (its failed state runs again with the same execution ARN)
    reclaimed = claim_for_execution(repo, job.job_id, arn)

    # Then it holds the job again, in progress, and the batch moved with it
    assert reclaimed.active_execution == arn
    assert reclaimed.status == StepStatus.IN_PROGRESS
    assert reclaimed.step(6).status == StepStatus.IN_PROGRESS
    assert reclaimed.run_number == 1
    assert batch_counts(repo, batch.batch_id) == status_tally(repo, [job])
    assert [e.type for e in repo.list_events(job.job_id)][-1] == "run_redriven"


def test_an_older_execution_is_superseded_and_changes_nothing(
    repo: JobRepository, table: Table
) -> None:
    # Given run 1 and then run 2 of a job both failed and were settled
    batch, (job,) = given_batch(repo)
    _, first = given_settled(repo, job)
    _, second = given_settled(repo, job)
    counts = batch_counts(repo, batch.batch_id)

    # When run 1 is redriven
    with unchanged_job_item(table, job.job_id), pytest.raises(SupersededExecutionError):
        claim_for_execution(repo, job.job_id, first)

    # Then it fails fast: the job, its progress and the batch are exactly as they were
    assert batch_counts(repo, batch.batch_id) == counts
    assert repo.get_job(job.job_id).latest_execution == second


def test_an_older_execution_learns_which_execution_holds_the_job(repo: JobRepository) -> None:
    # Given run 1 settled and run 2 running
    _, (job,) = given_batch(repo)
    _, first = given_settled(repo, job)
    _, second = given_claimed(repo, job)

    # When run 1 checks its claim, then it is superseded by run 2
    with pytest.raises(SupersededExecutionError) as raised:
        claim_for_execution(repo, job.job_id, first)
    assert raised.value.active_execution == second


class _StaleFirstRead(JobRepository):
    """Returns, once, the job as it was before the test moved it on (a read that raced)."""

    def __init__(self, table: Table, stale: Job) -> None:
        super().__init__(table, summarize=summarize)
        self._stale: Job | None = stale

    def get_job(self, job_id: str) -> Job:
        if self._stale is not None:
            stale, self._stale = self._stale, None
            return stale
        return super().get_job(job_id)


def test_a_redrive_that_raced_a_new_run_is_refused_by_the_write_itself(
    repo: JobRepository, table: Table
) -> None:
    # Given run 1 settled, and a redrive of run 1 that read the job just before run 2 claimed it
    batch, (job,) = given_batch(repo)
    settled, first = given_settled(repo, job)
    _, second = given_claimed(repo, settled)
    racing = _StaleFirstRead(table, stale=settled)

    # When the redrive's re-claim reaches the table
    with unchanged_job_item(table, job.job_id), pytest.raises(SupersededExecutionError) as raised:
        claim_for_execution(racing, job.job_id, first)

    # Then the conditional write (free AND latest_execution = run 1) refuses it
    assert raised.value.active_execution == second
    assert batch_counts(repo, batch.batch_id) == status_tally(repo, [job])


def test_a_settled_execution_cannot_settle_a_newer_run(repo: JobRepository) -> None:
    # Given run 1 settled and run 2 running
    _, (job,) = given_batch(repo)
    _, first = given_settled(repo, job)
    running, second = given_claimed(repo, job)

    # When a late status-change event of run 1 arrives
    result = settle_execution(repo, job.job_id, first, ExecutionStatus.FAILED, "late event")

    # Then run 2 keeps the job
    assert result == running
    assert repo.get_job(job.job_id).active_execution == second
