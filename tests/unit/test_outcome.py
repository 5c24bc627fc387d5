"""How a finished execution settles a job, batch status, and what is resumable."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.catalogue import CATALOGUE, sub_steps_of
from domain.outcome import ExecutionStatus, batch_status, is_resumable, settle
from domain.resume import last_completed_phase, phase_statuses
from state.models import (
    BatchStatus,
    Job,
    PhaseStatus,
    StepStatus,
    SubStepStatus,
)
from tests.factories import make_config, make_job, make_progress

AT = datetime(2026, 11, 28, tzinfo=UTC)
ARN = "arn:aws:states:us-east-1:123456789012:execution:Step6StateMachine:j-run-1"


def job_with(progress_statuses: dict[str, SubStepStatus]) -> Job:
    job = make_job()
    steps = [
        s.model_copy(update={"status": StepStatus.COMPLETED}) if s.step == 5 else s
        for s in job.steps
    ]
    return job.model_copy(
        update={
            "execution_config": make_config(),
            "steps": steps,
            "status": StepStatus.IN_PROGRESS,
            "active_execution": ARN,
            "step6_progress": make_progress(progress_statuses),
        }
    )


ALL_DONE = {s.name: SubStepStatus.COMPLETED for s in CATALOGUE}


def test_success_completes_job_and_step6() -> None:
    outcome = settle(
        job_with(ALL_DONE), ExecutionStatus.SUCCEEDED, execution_arn=ARN, cause=None, at=AT
    )
    assert outcome.status == StepStatus.COMPLETED
    assert outcome.steps[5].status == StepStatus.COMPLETED
    assert outcome.last_failure is None
    assert last_completed_phase(make_config(), outcome.progress) == "phase4"


def test_blocking_failure_keeps_step5_and_names_phase_and_sub_step() -> None:
    statuses = {s.name: SubStepStatus.COMPLETED for s in sub_steps_of("phase1")}
    statuses["restaurantRegistration"] = SubStepStatus.FAILED
    outcome = settle(
        job_with(statuses),
        ExecutionStatus.FAILED,
        execution_arn=ARN,
        cause="BlockingSubStepFailedError",
        at=AT,
    )
    assert outcome.status == StepStatus.ACTION_REQUIRED
    assert outcome.current_step == 6
    assert outcome.steps[4].status == StepStatus.COMPLETED
    assert outcome.steps[5].status == StepStatus.FAILED
    assert outcome.last_failure is not None
    assert (outcome.last_failure.phase, outcome.last_failure.sub_step) == (
        "phase2",
        "restaurantRegistration",
    )
    assert outcome.last_failure.execution == ARN
    assert phase_statuses(make_config(), outcome.progress)["phase2"] == PhaseStatus.FAILED


@pytest.mark.parametrize(
    "status", [ExecutionStatus.TIMED_OUT, ExecutionStatus.ABORTED, ExecutionStatus.FAILED]
)
def test_a_dead_execution_turns_stale_in_progress_into_a_failure(status: ExecutionStatus) -> None:
    statuses = {s.name: SubStepStatus.COMPLETED for s in sub_steps_of("phase1")}
    statuses["menuImport"] = SubStepStatus.IN_PROGRESS
    outcome = settle(job_with(statuses), status, execution_arn=ARN, cause=None, at=AT)
    sub = outcome.progress.sub_step("phase2", "menuImport")
    assert sub.status == SubStepStatus.FAILED
    assert status.value.lower() in (sub.error or "")
    assert outcome.last_failure is not None and outcome.last_failure.sub_step == "menuImport"


def test_failure_before_any_sub_step_still_records_a_last_failure() -> None:
    outcome = settle(
        job_with({}), ExecutionStatus.FAILED, execution_arn=ARN, cause="States.Runtime", at=AT
    )
    assert outcome.status == StepStatus.ACTION_REQUIRED
    assert outcome.last_failure is not None
    assert outcome.last_failure.sub_step is None
    assert "States.Runtime" in outcome.last_failure.error


def test_non_blocking_failure_completes_the_job_but_stays_resumable() -> None:
    statuses = ALL_DONE | {"paymentConfig": SubStepStatus.FAILED}
    outcome = settle(
        job_with(statuses), ExecutionStatus.SUCCEEDED, execution_arn=ARN, cause=None, at=AT
    )
    assert outcome.status == StepStatus.COMPLETED
    assert (
        phase_statuses(make_config(), outcome.progress)["phase2"]
        == PhaseStatus.COMPLETED_WITH_ERRORS
    )
    assert outcome.last_failure is not None and outcome.last_failure.sub_step == "paymentConfig"
    settled = job_with(statuses).model_copy(
        update={
            "active_execution": None,
            "steps": outcome.steps,
            "step6_progress": outcome.progress,
        }
    )
    assert is_resumable(settled)


def test_nothing_to_resume_when_running_or_all_completed() -> None:
    running = job_with({"cloudwaitressAccount": SubStepStatus.FAILED})
    assert not is_resumable(running)  # active_execution is set
    done = settle(
        job_with(ALL_DONE), ExecutionStatus.SUCCEEDED, execution_arn=ARN, cause=None, at=AT
    )
    finished = job_with(ALL_DONE).model_copy(
        update={"active_execution": None, "steps": done.steps, "step6_progress": done.progress}
    )
    assert not is_resumable(finished)
    assert not is_resumable(make_job())  # Step 5 not submitted


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ({}, BatchStatus.PENDING),
        ({StepStatus.COMPLETED: 3}, BatchStatus.COMPLETED),
        ({StepStatus.COMPLETED: 2, StepStatus.IN_PROGRESS: 1}, BatchStatus.IN_PROGRESS),
        ({StepStatus.COMPLETED: 2, StepStatus.ACTION_REQUIRED: 1}, BatchStatus.ACTION_REQUIRED),
        ({StepStatus.COMPLETED: 2, StepStatus.FAILED: 1}, BatchStatus.COMPLETED_WITH_ERRORS),
        ({StepStatus.FAILED: 2}, BatchStatus.FAILED),
        ({StepStatus.PENDING: 2, StepStatus.COMPLETED: 0}, BatchStatus.PENDING),
    ],
)
def test_batch_status_from_job_counts(counts: dict[StepStatus, int], expected: BatchStatus) -> None:
    assert batch_status(counts) == expected
