"""The runs history as stored: a row per run, closed by its settlement, the newest 20 kept."""

from __future__ import annotations

from domain.outcome import ExecutionStatus
from state.models import RUNS_KEPT, ErrorCode, StepStatus
from state.repository import JobRepository
from tests.repository.support import batch_counts, given_batch, given_settled, status_tally


def test_each_run_has_a_row_closed_by_its_settlement(repo: JobRepository) -> None:
    # given a job whose first run failed and second succeeded
    batch, (job,) = given_batch(repo)
    given_settled(repo, job, ExecutionStatus.FAILED)
    _, second_arn = given_settled(repo, job, ExecutionStatus.SUCCEEDED)
    # when its runs are listed
    second, first = repo.list_runs(job.job_id)
    # then the newest comes first, each closed with how it ended
    assert (second.run, second.status, second.execution_arn) == (2, "succeeded", second_arn)
    assert (first.run, first.status, first.error_code) == (1, "failed", ErrorCode.INTERRUPTED)
    assert first.ended_at is not None and second.step6_status == StepStatus.COMPLETED
    assert batch_counts(repo, batch.batch_id) == status_tally(repo, [job])


def test_the_history_keeps_the_newest_runs_only(repo: JobRepository) -> None:
    # given a job that ran more times than the history keeps
    _, (job,) = given_batch(repo)
    for _ in range(RUNS_KEPT + 2):
        given_settled(repo, job, ExecutionStatus.FAILED)
    # then only the newest RUNS_KEPT rows are left, newest first
    runs = repo.list_runs(job.job_id)
    assert [r.run for r in runs] == list(range(RUNS_KEPT + 2, 2, -1))
    assert repo.get_run(job.job_id, 2) is None and repo.get_run(job.job_id, 3) is not None
    # and the job's partition holds no more run items than that
    assert len(runs) == RUNS_KEPT
