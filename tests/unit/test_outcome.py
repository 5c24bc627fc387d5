"""How a finished execution settles a job, batch status, and what is resumable."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.catalogue import CATALOGUE, sub_steps_of
from domain.outcome import ExecutionStatus, batch_status, is_resumable, settle
from domain.resume import last_completed_phase, phase_statuses
from state.models import (
    BatchStatus,
    ErrorCode,
    Job,
    PhaseStatus,
    StepStatus,
    SubStepStatus,
    tally_of,
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
    ("status", "sub_step_code", "job_code"),
    [
        (ExecutionStatus.TIMED_OUT, ErrorCode.TIMED_OUT, ErrorCode.TIMED_OUT),
        (ExecutionStatus.ABORTED, ErrorCode.INTERRUPTED, ErrorCode.ABORTED),
        (ExecutionStatus.FAILED, ErrorCode.INTERRUPTED, ErrorCode.INTERRUPTED),
    ],
)
def test_a_dead_execution_turns_stale_in_progress_into_a_failure(
    status: ExecutionStatus, sub_step_code: ErrorCode, job_code: ErrorCode
) -> None:
    # given a run that ended while menuImport was in progress
    statuses = {s.name: SubStepStatus.COMPLETED for s in sub_steps_of("phase1")}
    statuses["menuImport"] = SubStepStatus.IN_PROGRESS
    outcome = settle(job_with(statuses), status, execution_arn=ARN, cause=None, at=AT)
    # then the sub-step failed with the interruption's code, and the job says why the run ended
    sub = outcome.progress.sub_step("phase2", "menuImport")
    assert sub.status == SubStepStatus.FAILED
    assert sub.error_code == sub_step_code and sub.retryable is True
    assert outcome.last_failure is not None and outcome.last_failure.sub_step == "menuImport"
    assert outcome.last_failure.error_code == job_code and outcome.last_failure.retryable


def test_failure_before_any_sub_step_still_records_a_last_failure() -> None:
    # given a run whose function died with Lambda's JSON envelope as the cause
    envelope = '{"errorType": "Runtime.ExitError", "errorMessage": "RequestId: 1f2e Error: exit"}'
    outcome = settle(
        job_with({}),
        ExecutionStatus.FAILED,
        execution_arn=ARN,
        error="Runtime.ExitError",
        cause=envelope,
        at=AT,
    )
    # then the failure is a sentence naming the error, the envelope and ids stay out of it
    assert outcome.status == StepStatus.ACTION_REQUIRED
    failure = outcome.last_failure
    assert failure is not None and failure.sub_step is None
    assert failure.error_code == ErrorCode.INTERRUPTED
    assert failure.execution_error == "Runtime.ExitError"
    assert "{" not in failure.error and "1f2e" not in failure.error and ARN not in failure.error


def test_an_operator_cancel_is_aborted_and_says_the_operator_s_words() -> None:
    outcome = settle(
        job_with({}),
        ExecutionStatus.ABORTED,
        execution_arn=ARN,
        error="Cancelled",
        cause="cancelled by ops@pumpd.example: the platform is slow",
        at=AT,
    )
    assert outcome.last_failure is not None
    assert outcome.last_failure.error_code == ErrorCode.ABORTED
    assert outcome.last_failure.error.endswith("the platform is slow")


def test_a_run_that_succeeds_with_a_failed_non_blocking_sub_step_completes_with_errors() -> None:
    # given every sub-step completed but paymentConfig (non-blocking), which failed
    statuses = dict(ALL_DONE) | {"paymentConfig": SubStepStatus.FAILED}
    outcome = settle(
        job_with(statuses), ExecutionStatus.SUCCEEDED, execution_arn=ARN, cause=None, at=AT
    )
    # then the job is completed (the seed's states), Step 6 completed with errors, counted apart
    assert outcome.status == StepStatus.COMPLETED
    assert outcome.steps[5].status == StepStatus.COMPLETED_WITH_ERRORS
    assert tally_of(outcome.status, outcome.steps) == StepStatus.COMPLETED_WITH_ERRORS
    assert outcome.last_failure is not None and outcome.last_failure.sub_step == "paymentConfig"
    assert batch_status({StepStatus.COMPLETED: 3, StepStatus.COMPLETED_WITH_ERRORS: 1}) == (
        BatchStatus.COMPLETED_WITH_ERRORS
    )
    assert batch_status({StepStatus.COMPLETED: 4}) == BatchStatus.COMPLETED


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
