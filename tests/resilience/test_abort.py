"""Abort: StopExecution in the middle of a run, and the Lambda that runs on after it.

In AWS, StopExecution makes the execution ABORTED at once (and EventBridge announces it), but a
Lambda invocation in flight is not stopped: it runs to its end and may try to checkpoint. The
local runtime reports the stop the AWS way (moto alone would wait for the running Task). The
job must be settled from the stop, resumable with its progress intact, and the late writer
must not change it any more.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest

from domain.catalogue import CATALOGUE, phase_of
from domain.outcome import ExecutionStatus, is_resumable
from domain.resume import resume_point
from domain.settlement import settle_execution
from state.models import ErrorCode, Job, StepStatus, SubStepProgress, SubStepStatus, utc_now
from state.repository import JobRepository
from tests.integration.conftest import ORG, Harness
from tests.resilience.support import (
    SMALL_MENU_CONFIG,
    Gate,
    assert_as_if_uninterrupted,
    create_small_job,
    ledger_report,
    reference_outputs,
    stored_job_item,
    sub_steps,
    wait_until,
)

pytestmark = pytest.mark.integration

TABLE = "JobsTable"


OPERATIONS = {"optionSets": "create_option_sets", "restaurantRegistration": "register_restaurant"}


def _stop_while_running(
    harness: Harness, gate: Callable[[str, str], Gate], name: str, sub_step: str
) -> tuple[Job, Gate, Job]:
    """Start a job and stop its execution while `sub_step`'s platform call is in flight."""
    job = create_small_job(harness.jobs, ORG, name)
    in_flight = gate(OPERATIONS[sub_step], job.job_id)
    arn = harness.submit(job, menu=SMALL_MENU_CONFIG)
    in_flight.wait_entered()
    running = harness.jobs.get_job(job.job_id)
    assert sub_steps(running)[sub_step].status == SubStepStatus.IN_PROGRESS
    boto3.client("stepfunctions").stop_execution(
        executionArn=arn, error="Operator.Stop", cause="stopped from the console"
    )
    assert harness.runtime.wait_for(arn) == "ABORTED"
    return running, in_flight, harness.jobs.get_job(job.job_id)


def _late_handler_of(harness: Harness, job_id: str, function: str) -> Any:
    def finished() -> Any:
        return next(
            (
                i
                for i in harness.runtime.lambdas.invocations
                if i.function == function and i.payload.get("job_id") == job_id
            ),
            None,
        )

    return wait_until(finished, timeout_s=30)


def _completed(job: Job) -> dict[str, Any]:
    return {n: s.output for n, s in sub_steps(job).items() if s.status == SubStepStatus.COMPLETED}


def test_a_stop_mid_run_leaves_the_job_resumable_with_its_progress_intact(
    harness: Harness, gate: Callable[[str, str], Gate]
) -> None:
    # given a run stopped while optionSets (phase 3, alone in its phase) waits on the platform
    running, in_flight, settled = _stop_while_running(harness, gate, "Abort Cafe", "optionSets")

    # then the stop settled the job: resumable from phase 3, the stale sub-step interrupted
    options = sub_steps(settled)["optionSets"]
    assert settled.status == StepStatus.ACTION_REQUIRED and settled.active_execution is None
    assert options.status == SubStepStatus.FAILED
    assert options.error_code == ErrorCode.INTERRUPTED
    assert settled.last_failure is not None and settled.last_failure.sub_step == "optionSets"
    assert (
        is_resumable(settled)
        and resume_point(settled.execution_config, settled.step6_progress) == "phase3"
    )
    # and what had completed before the stop is intact, outputs included
    done_before = _completed(running)
    assert set(done_before) == {s.name for s in CATALOGUE if phase_of(s.name) < "phase3"}
    assert _completed(settled) == done_before

    # when the Lambda that was running gets its answer and finishes after the stop
    before = stored_job_item(TABLE, settled.job_id)
    in_flight.release()
    late = _late_handler_of(harness, settled.job_id, "Phase3Function")

    # then its checkpoint was refused: the settled job did not change
    assert late.error_type == "SupersededExecutionError"
    assert stored_job_item(TABLE, settled.job_id) == before
    assert ledger_report(harness.simulator, settled.job_id).counts["optionSets"] == 1

    # when the job is resumed
    final, _ = harness.resume(settled.job_id)

    # then it completes, nothing happened twice, and the outputs are an uninterrupted run's
    assert_as_if_uninterrupted(harness.simulator, final)
    types = [e.type for e in harness.jobs.list_events(final.job_id)]
    assert (
        types.index("run_failed") < types.index("resume_requested") < types.index("run_succeeded")
    )


def test_a_stop_while_a_phase_runs_sub_steps_concurrently(
    harness: Harness, gate: Callable[[str, str], Gate]
) -> None:
    # given a run stopped while restaurantRegistration waits and syncOnboardingUser runs beside
    _, in_flight, settled = _stop_while_running(
        harness, gate, "Abort Twice Cafe", "restaurantRegistration"
    )
    assert settled.status == StepStatus.ACTION_REQUIRED and is_resumable(settled)
    assert resume_point(settled.execution_config, settled.step6_progress) == "phase2"

    # when the Lambda that was running gets its answer and finishes
    before = stored_job_item(TABLE, settled.job_id)
    in_flight.release()
    late = _late_handler_of(harness, settled.job_id, "Phase2Function")

    # then nothing it did after the stop reached the job
    assert late.error_type == "SupersededExecutionError"
    assert stored_job_item(TABLE, settled.job_id) == before

    # and the resume completes without a duplicate
    final, _ = harness.resume(settled.job_id)
    assert final.status == StepStatus.COMPLETED
    assert_as_if_uninterrupted(harness.simulator, final)


class _WriteAfterRead:
    """The real repository, except that a late writer checkpoints right after the next read."""

    def __init__(self, inner: JobRepository, late_write: Callable[[], None]) -> None:
        self._inner = inner
        self._late_write: Callable[[], None] | None = late_write

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def get_job(self, job_id: str) -> Job:
        job = self._inner.get_job(job_id)
        if self._late_write is not None:
            write, self._late_write = self._late_write, None
            write()
        return job


def test_settling_does_not_overwrite_a_checkpoint_written_after_its_read(
    harness: Harness,
) -> None:
    # given the phase 3 Lambda of a run died after its platform call, and the event is late
    harness.runtime.deliver_events = False
    job = create_small_job(harness.jobs, ORG, "Race Cafe")
    harness.fault("optionSets", "crash_after", job_id=job.job_id)
    arn = harness.submit(job, menu=SMALL_MENU_CONFIG)
    assert harness.runtime.wait_for(arn) == "FAILED"
    stale = harness.jobs.get_job(job.job_id)
    assert sub_steps(stale)["optionSets"].status == SubStepStatus.IN_PROGRESS
    output = reference_outputs(stale)["optionSets"]

    def late_checkpoint() -> None:
        # a writer of the same execution (still its owner) records the sub-step's completion
        harness.jobs.checkpoint_sub_step(
            job.job_id,
            arn,
            "phase3",
            "optionSets",
            SubStepProgress(
                status=SubStepStatus.COMPLETED,
                attempts=1,
                output=output,
                started_at=utc_now(),
                finished_at=utc_now(),
            ),
        )

    # when the settle reads the job, the checkpoint lands, and then the settle writes
    racing = _WriteAfterRead(harness.jobs, late_checkpoint)
    settled = settle_execution(racing, job.job_id, arn, ExecutionStatus.FAILED, "Lambda died")  # type: ignore[arg-type]

    # then the settle saw that the progress moved under it and settled from a fresh read: the
    # completion is kept, not overwritten as "interrupted"
    stored = harness.jobs.get_job(job.job_id)
    assert sub_steps(stored)["optionSets"].status == SubStepStatus.COMPLETED
    assert sub_steps(stored)["optionSets"].output == output
    assert stored.active_execution is None and stored.status == StepStatus.ACTION_REQUIRED
    assert resume_point(stored.execution_config, stored.step6_progress) == "phase4"
    assert settled.step6_progress == stored.step6_progress
    assert [e.type for e in harness.jobs.list_events(job.job_id)].count("run_failed") == 1

    # and the resume goes on from phase 4 without asking the platform for optionSets again
    harness.runtime.deliver_events = True
    final, _ = harness.resume(job.job_id)
    assert final.status == StepStatus.COMPLETED
    report = ledger_report(harness.simulator, job.job_id)
    assert report.calls["optionSets"] == 1 and report.duplicates == 0
