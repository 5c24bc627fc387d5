"""The outcome: settling an execution moves the job and its batch's counters together."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from domain.claims import claim_for_execution
from domain.outcome import ExecutionStatus
from domain.settlement import settle_execution
from state.errors import ConflictError
from state.models import ErrorCode, StepStatus, SubStepProgress, SubStepStatus, utc_now
from state.repository import JobRepository
from tests.repository.support import (
    batch_counts,
    given_batch,
    given_claimed,
    given_settled,
    status_tally,
    unchanged_job_item,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


def test_a_failed_execution_settles_the_job_and_the_batch_together(repo: JobRepository) -> None:
    # Given run 1 holds a job of a two-job batch, with a sub-step left in progress by a crash
    batch, jobs = given_batch(repo, 2)
    job = jobs[0]
    _, arn = given_claimed(repo, job)
    repo.checkpoint_sub_step(
        job.job_id,
        arn,
        "phase1",
        "cloudwaitressAccount",
        SubStepProgress(status=SubStepStatus.IN_PROGRESS, attempts=1, started_at=utc_now()),
    )
    counts = batch_counts(repo, batch.batch_id)
    assert counts[StepStatus.IN_PROGRESS] == 1 and counts[StepStatus.ACTION_REQUIRED] == 1

    # When the execution's FAILED status-change event is settled
    settled = settle_execution(repo, job.job_id, arn, ExecutionStatus.FAILED, "Lambda timed out")

    # Then the job waits at Step 6 for a resume, its stale sub-step failed, and the batch moved
    assert settled.status == StepStatus.ACTION_REQUIRED
    assert settled.active_execution is None
    assert settled.current_step == 6
    assert settled.step(5).status == StepStatus.COMPLETED
    assert settled.step(6).status == StepStatus.FAILED
    stale = settled.step6_progress.sub_step("phase1", "cloudwaitressAccount")
    assert stale.status == SubStepStatus.FAILED and stale.error_code == ErrorCode.INTERRUPTED
    assert settled.last_failure is not None
    assert settled.last_failure.sub_step == "cloudwaitressAccount"
    assert settled.last_failure.execution == arn
    assert batch_counts(repo, batch.batch_id) == status_tally(repo, jobs)


def test_a_second_settle_of_the_same_execution_is_a_no_op(
    repo: JobRepository, table: Table
) -> None:
    # Given run 1 failed and was settled
    batch, (job,) = given_batch(repo)
    _, arn = given_settled(repo, job)
    counts = batch_counts(repo, batch.batch_id)
    events = repo.list_events(job.job_id)

    # When the same event is delivered again (EventBridge is at-least-once), and a read settles
    with unchanged_job_item(table, job.job_id):
        again = settle_execution(repo, job.job_id, arn, ExecutionStatus.FAILED, "again")
        settle_execution(repo, job.job_id, arn, ExecutionStatus.SUCCEEDED, None)

    # Then nothing changes: not the job, not the counters, not the audit trail
    assert again == repo.get_job(job.job_id)
    assert batch_counts(repo, batch.batch_id) == counts
    assert repo.list_events(job.job_id) == events


def test_a_succeeded_execution_completes_the_job(repo: JobRepository) -> None:
    # Given run 1 holds the job
    batch, (job,) = given_batch(repo)
    _, arn = given_claimed(repo, job)

    # When it succeeds
    settled = settle_execution(repo, job.job_id, arn, ExecutionStatus.SUCCEEDED, None)

    # Then the job is completed, Step 6 too, and the batch counts it as completed
    assert settled.status == StepStatus.COMPLETED
    assert settled.step(6).status == StepStatus.COMPLETED
    assert settled.active_execution is None
    counts = batch_counts(repo, batch.batch_id)
    assert counts[StepStatus.COMPLETED] == 1 and counts[StepStatus.IN_PROGRESS] == 0


def test_a_claim_and_a_settlement_never_write_the_batch_item(
    repo: JobRepository, table: Table
) -> None:
    # Given a batch item as created, and a job of it
    batch, (job,) = given_batch(repo)
    key = {"pk": f"BATCH#{batch.batch_id}", "sk": "BATCH"}
    before = table.get_item(Key=key, ConsistentRead=True)["Item"]

    # When the job is claimed and its run settles
    _, arn = given_claimed(repo, job)
    settle_execution(repo, job.job_id, arn, ExecutionStatus.FAILED, "boom")

    # Then the batch item is exactly as created (no hot item: the counts come from the jobs)
    assert table.get_item(Key=key, ConsistentRead=True)["Item"] == before
    assert "job_counts" not in before
    assert batch_counts(repo, batch.batch_id) == status_tally(repo, [job])


def test_the_audit_trail_lists_events_oldest_first(repo: JobRepository) -> None:
    # Given a job that was created, claimed, failed, redriven and then succeeded
    _, (job,) = given_batch(repo)
    repo.append_event(job.job_id, "job_created", {"batch_id": job.batch_id})
    _, arn = given_settled(repo, job)
    claim_for_execution(repo, job.job_id, arn)
    settle_execution(repo, job.job_id, arn, ExecutionStatus.SUCCEEDED, None)
    repo.append_event(job.job_id, "note", {"n": 1})
    repo.append_event(job.job_id, "note", {"n": 2})

    # When its audit trail is read
    events = repo.list_events(job.job_id)

    # Then the events come in the order they happened
    assert [e.type for e in events] == [
        "job_created",
        "run_failed",
        "run_redriven",
        "run_succeeded",
        "note",
        "note",
    ]
    assert [e.detail.get("n") for e in events[-2:]] == [1, 2]
    assert [e.at for e in events] == sorted(e.at for e in events)
    assert {e.job_id for e in events} == {job.job_id}


def test_job_counts_never_drift_across_transitions(repo: JobRepository) -> None:
    # Given a batch of three jobs
    batch, jobs = given_batch(repo, 3)
    a, b, c = jobs
    moves: list[str] = []

    def check(step: str) -> None:
        moves.append(step)
        counts = batch_counts(repo, batch.batch_id)
        assert counts == status_tally(repo, jobs), moves
        assert sum(counts.values()) == 3 and min(counts.values()) >= 0, moves

    check("created")
    # When the jobs go through starts, failures, redrives, resumes, refused claims and successes
    _, a1 = given_claimed(repo, a)
    check("a claimed")
    _, b1 = given_claimed(repo, b)
    check("b claimed")
    settle_execution(repo, a.job_id, a1, ExecutionStatus.FAILED, "boom")
    check("a failed")
    settle_execution(repo, b.job_id, b1, ExecutionStatus.SUCCEEDED, None)
    check("b succeeded")
    settle_execution(repo, b.job_id, b1, ExecutionStatus.SUCCEEDED, None)
    check("b settled twice")
    claim_for_execution(repo, a.job_id, a1)
    check("a redriven")
    settle_execution(repo, a.job_id, a1, ExecutionStatus.TIMED_OUT, None)
    check("a timed out")
    _, a2 = given_claimed(repo, a)
    check("a resumed")
    with pytest.raises(ConflictError):
        given_claimed(repo, a)
    check("a claimed twice")
    _, c1 = given_claimed(repo, c)
    check("c claimed")
    settle_execution(repo, c.job_id, c1, ExecutionStatus.ABORTED, None)
    check("c aborted")
    settle_execution(repo, a.job_id, a2, ExecutionStatus.SUCCEEDED, None)
    check("a succeeded")

    # Then the counters matched the jobs after every move, and end as two completed, one waiting
    final = batch_counts(repo, batch.batch_id)
    assert final[StepStatus.COMPLETED] == 2 and final[StepStatus.ACTION_REQUIRED] == 1
