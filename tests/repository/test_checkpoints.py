"""Sub-step checkpoints and phase status: only the execution that owns the job may write."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from domain.catalogue import sub_steps_of
from domain.summary import summarize
from state.errors import SupersededExecutionError
from state.models import (
    SkipReason,
    SubStepProgress,
    SubStepStatus,
    utc_now,
)
from state.repository import JobRepository
from tests.factories import sample_output
from tests.repository.support import (
    Engine,
    given_batch,
    given_claimed,
    given_settled,
    other_handles,
    unchanged_job_item,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


def _completed(name: str, attempts: int = 1) -> SubStepProgress:
    now = utc_now()
    return SubStepProgress(
        status=SubStepStatus.COMPLETED,
        attempts=attempts,
        output=sample_output(name),
        started_at=now,
        finished_at=now,
    )


def test_the_owner_checkpoints_a_sub_step(repo: JobRepository) -> None:
    # Given a job held by run 1
    _, (job,) = given_batch(repo)
    claimed, arn = given_claimed(repo, job)

    # When run 1 records cloudwaitressAccount as started, then as completed with its output
    started = SubStepProgress(status=SubStepStatus.IN_PROGRESS, attempts=1, started_at=utc_now())
    repo.checkpoint_sub_step(job.job_id, arn, "phase1", "cloudwaitressAccount", started)
    assert (
        repo.get_job(job.job_id).step6_progress.sub_step("phase1", "cloudwaitressAccount")
        == started
    )
    done = _completed("cloudwaitressAccount")
    repo.checkpoint_sub_step(job.job_id, arn, "phase1", "cloudwaitressAccount", done)

    # Then the sub-step reads back exactly, and no other sub-step changed
    progress = repo.get_job(job.job_id).step6_progress
    assert progress.sub_step("phase1", "cloudwaitressAccount") == done
    expected = claimed.step6_progress.model_copy(deep=True)
    expected.phases["phase1"].sub_steps["cloudwaitressAccount"] = done
    assert progress == expected


def test_no_execution_can_checkpoint_a_settled_job(repo: JobRepository, table: Table) -> None:
    # Given run 1 has been settled: nobody holds the job
    _, (job,) = given_batch(repo)
    _, arn = given_settled(repo, job)

    # When run 1 writes a checkpoint or records skips after the fact, then both are refused
    # and nothing changed
    with unchanged_job_item(table, job.job_id):
        with pytest.raises(SupersededExecutionError) as raised:
            repo.checkpoint_sub_step(
                job.job_id, arn, "phase1", "codeGeneration", _completed("codeGeneration")
            )
        assert raised.value.active_execution is None
        with pytest.raises(SupersededExecutionError):
            repo.record_skips(job.job_id, arn, "phase1", {"uploadImages": _skipped()})


def _skipped() -> SubStepProgress:
    return SubStepProgress(
        status=SubStepStatus.SKIPPED, skip_reason=SkipReason.DISABLED, finished_at=utc_now()
    )


def test_record_skips_stores_a_phase_skips_in_one_write(repo: JobRepository) -> None:
    # Given a job held by run 1
    _, (job,) = given_batch(repo)
    claimed, arn = given_claimed(repo, job)
    skipped = _skipped()

    # When run 1 starts phase 1, skipping two disabled sub-steps
    repo.record_skips(
        job.job_id, arn, "phase1", {"createOnboardingUser": skipped, "uploadImages": skipped}
    )

    # Then the skips are stored; the other sub-steps are untouched
    progress = repo.get_job(job.job_id).step6_progress
    assert progress.sub_step("phase1", "createOnboardingUser") == skipped
    assert progress.sub_step("phase1", "uploadImages") == skipped
    for name in ("cloudwaitressAccount", "codeGeneration"):
        assert progress.sub_step("phase1", name) == claimed.step6_progress.sub_step("phase1", name)


# What a run writes as its phases go, each by execution `arn` into the job `job_id`.
PROGRESS_WRITES = [
    pytest.param(
        lambda repo, job_id, arn: repo.checkpoint_sub_step(
            job_id, arn, "phase1", "cloudwaitressAccount", _completed("cloudwaitressAccount")
        ),
        id="checkpoint",
    ),
    pytest.param(
        lambda repo, job_id, arn: repo.record_skips(
            job_id, arn, "phase2", {"menuImport": _skipped()}
        ),
        id="record-skips",
    ),
]


@pytest.mark.parametrize("write", PROGRESS_WRITES)
def test_a_superseded_execution_cannot_write_progress(
    repo: JobRepository, table: Table, write: Callable[[JobRepository, str, str], object]
) -> None:
    # Given run 1 settled and run 2 holding the job
    _, (job,) = given_batch(repo)
    _, first = given_settled(repo, job)
    _, second = given_claimed(repo, job)

    # When run 1 (e.g. a late Lambda of it) writes a checkpoint or records a skip
    with unchanged_job_item(table, job.job_id), pytest.raises(SupersededExecutionError) as raised:
        write(repo, job.job_id, first)

    # Then the write is refused, names run 2, and nothing changed
    assert raised.value.active_execution == second


def test_parallel_checkpoints_of_one_phase_are_all_kept(
    repo: JobRepository, table: Table, engine: Engine
) -> None:
    # Given run 1 holds the job, and phase 2's sub-steps run in parallel (as the runner does)
    _, (job,) = given_batch(repo)
    _, arn = given_claimed(repo, job)
    names = [spec.name for spec in sub_steps_of("phase2")]
    repos = [
        JobRepository(handle, summarize=summarize)
        for handle in other_handles(engine, table, len(names))
    ]
    start = threading.Barrier(len(names))
    failures: list[BaseException] = []

    def run(i: int, name: str) -> None:
        start.wait()
        try:
            repos[i].checkpoint_sub_step(job.job_id, arn, "phase2", name, _completed(name))
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    # When they all checkpoint at once
    threads = [threading.Thread(target=run, args=(i, n)) for i, n in enumerate(names)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then every one of them is stored (no write lost another's)
    assert failures == []
    progress = repo.get_job(job.job_id).step6_progress
    for name in names:
        assert progress.sub_step("phase2", name).status == SubStepStatus.COMPLETED
        assert progress.sub_step("phase2", name).output == sample_output(name)
