"""How a finished execution settles a job, and what a batch's status is: pure functions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain import causes
from domain.catalogue import SUB_STEPS
from domain.causes import Cause
from domain.resume import current_phase, phase_statuses, resume_point
from state.models import (
    PHASE_NAMES,
    BatchStatus,
    ErrorCode,
    ExecutionConfig,
    Job,
    LastFailure,
    PhaseName,
    PhaseProgress,
    PhaseStatus,
    Step6Progress,
    StepState,
    StepStatus,
    SubStepProgress,
    SubStepStatus,
    utc_now,
)


class ExecutionStatus(StrEnum):
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    TIMED_OUT = "TIMED_OUT"
    ABORTED = "ABORTED"
    PENDING_REDRIVE = "PENDING_REDRIVE"


@dataclass(frozen=True)
class Settlement:
    status: StepStatus
    current_step: int
    steps: list[StepState]
    progress: Step6Progress
    last_failure: LastFailure | None

    def applied_to(self, job: Job) -> Job:
        """`job` as this settlement leaves it (what was written, without reading it back)."""
        return job.model_copy(
            update={
                "status": self.status,
                "active_execution": None,
                "current_step": self.current_step,
                "steps": self.steps,
                "step6_progress": self.progress,
                "last_failure": self.last_failure,
                "updated_at": utc_now(),
            }
        )


# A failed sub-step: its phase, its name and its progress.
Failed = tuple[PhaseName, str, SubStepProgress]


def interrupt_stale(progress: Step6Progress, cause: Cause, at: datetime) -> Step6Progress:
    """Sub-steps left `in_progress` by an ended execution become `failed` (planned again)."""
    phases = {}
    for name, phase in progress.phases.items():
        sub_steps = {
            sub_name: (
                sub.model_copy(
                    update={
                        "status": SubStepStatus.FAILED,
                        "error": cause.message,
                        "error_code": cause.code,
                        "finished_at": at,
                    }
                )
                if sub.status == SubStepStatus.IN_PROGRESS
                else sub
            )
            for sub_name, sub in phase.sub_steps.items()
        }
        phases[name] = phase.model_copy(update={"sub_steps": sub_steps})
    return progress.model_copy(update={"phases": phases})


def first_failure(progress: Step6Progress) -> Failed | None:
    """The first failed sub-step, blocking ones first."""
    failed = [
        (phase, name, sub)
        for phase in PHASE_NAMES
        for name, sub in progress.phases.get(phase, PhaseProgress()).sub_steps.items()
        if sub.status == SubStepStatus.FAILED
    ]
    failed.sort(key=lambda f: (not SUB_STEPS[f[1]].blocking, PHASE_NAMES.index(f[0])))
    return failed[0] if failed else None


def failure_of(
    failed: Failed, *, at: datetime, execution: str | None = None, error: str | None = None
) -> LastFailure:
    """The job's `last_failure` for a failed sub-step (`at` when it has no end time)."""
    phase, name, sub = failed
    return LastFailure(
        phase=phase,
        sub_step=name,
        error=sub.error or "failed",
        error_code=sub.error_code or ErrorCode.INTERNAL_ERROR,
        platform_code=sub.platform_code,
        at=sub.finished_at or at,
        execution=execution,
        execution_error=error,
    )


def step6_outcome(config: ExecutionConfig, progress: Step6Progress) -> StepStatus:
    """Step 6's status once a run has succeeded: `completed_with_errors` while any phase holds
    a failed non-blocking sub-step, or one skipped because such a one failed."""
    statuses = phase_statuses(config, progress).values()
    if any(s == PhaseStatus.COMPLETED_WITH_ERRORS for s in statuses):
        return StepStatus.COMPLETED_WITH_ERRORS
    return StepStatus.COMPLETED


def settle(
    job: Job,
    execution: ExecutionStatus,
    *,
    execution_arn: str,
    cause: str | None,
    at: datetime,
    error: str | None = None,
) -> Settlement:
    """The job's state once `execution` has ended with `execution` status.

    `error` and `cause` are Step Functions' (the error's name, e.g. `States.Timeout`, and its
    text, which may be a JSON envelope): only an operator's cancel reason is ever shown; the
    rest stays in the logs, and the error's name in `last_failure.execution_error`.
    """
    config = job.execution_config
    assert config is not None  # only a job past Step 5 has executions
    progress = job.step6_progress
    if execution != ExecutionStatus.SUCCEEDED:
        progress = interrupt_stale(progress, causes.of_interruption(execution.value, error), at)
    failure = first_failure(progress)
    last_failure = (
        None
        if failure is None
        else failure_of(failure, at=at, execution=execution_arn, error=error)
    )
    if execution == ExecutionStatus.SUCCEEDED or resume_point(config, progress) is None:
        # A run that ends with nothing left to do (e.g. cancelled or failed after its last
        # phase) has done Step 6: waiting for a resume that has nothing to run would be stuck.
        step6 = step6_outcome(config, progress)
        status = StepStatus.COMPLETED
    else:
        step6 = StepStatus.FAILED
        status = StepStatus.ACTION_REQUIRED
        if last_failure is None or execution == ExecutionStatus.ABORTED:
            ended = causes.of_execution(execution.value, error)
            message = ended.message
            if execution == ExecutionStatus.ABORTED and cause:
                message = f"{message[:-1]}: {cause}"
            last_failure = LastFailure(
                phase=last_failure.phase if last_failure else current_phase(progress),
                sub_step=last_failure.sub_step if last_failure else None,
                error=message,
                error_code=ended.code,
                at=at,
                execution=execution_arn,
                execution_error=error,
            )
    steps = [
        s.model_copy(
            update={
                "status": step6,
                "completed_at": at if step6 != StepStatus.FAILED else None,
            }
        )
        if s.step == 6
        else s
        for s in job.steps
    ]
    return Settlement(status, 6, steps, progress, last_failure)


def is_resumable(job: Job) -> bool:
    """A resume would do something: the job waits for one, and some phase is not completed."""
    return (
        waits_for_resume(job) and resume_point(job.execution_config, job.step6_progress) is not None
    )


def waits_for_resume(job: Job) -> bool:
    """Step 5 done, nothing running, Step 6 has run: whether a resume has work is the progress's."""
    return (
        job.execution_config is not None
        and job.step(5).status == StepStatus.COMPLETED
        and job.active_execution is None
        and job.step(6).status
        in (
            StepStatus.FAILED,
            StepStatus.COMPLETED,
            StepStatus.COMPLETED_WITH_ERRORS,
            StepStatus.ACTION_REQUIRED,
        )
    )


def batch_status(counts: Mapping[StepStatus, int]) -> BatchStatus:
    """From the batch's counts (`domain.summary.job_counts`, by `tally_of`): a job whose Step 6
    completed with errors makes the batch `completed_with_errors`, never `completed`."""
    total = sum(counts.values())
    if total == 0:
        return BatchStatus.PENDING
    if counts.get(StepStatus.IN_PROGRESS, 0):
        return BatchStatus.IN_PROGRESS
    if counts.get(StepStatus.ACTION_REQUIRED, 0):
        return BatchStatus.ACTION_REQUIRED
    if counts.get(StepStatus.FAILED, 0):
        return (
            BatchStatus.FAILED
            if counts.get(StepStatus.FAILED) == total
            else BatchStatus.COMPLETED_WITH_ERRORS
        )
    done = counts.get(StepStatus.COMPLETED, 0)
    with_errors = counts.get(StepStatus.COMPLETED_WITH_ERRORS, 0)
    if done + with_errors == total:
        return BatchStatus.COMPLETED_WITH_ERRORS if with_errors else BatchStatus.COMPLETED
    return BatchStatus.PENDING
