"""How a finished execution settles a job, and what a batch's status is: pure functions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.catalogue import SUB_STEPS
from domain.resume import current_phase, resume_point
from state.models import (
    PHASE_NAMES,
    BatchStatus,
    Job,
    LastFailure,
    PhaseProgress,
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


def interrupt_stale(progress: Step6Progress, reason: str, at: datetime) -> Step6Progress:
    """Sub-steps left `in_progress` by a dead execution become `failed` (planned again)."""
    phases = {}
    for name, phase in progress.phases.items():
        sub_steps = {
            sub_name: (
                sub.model_copy(
                    update={"status": SubStepStatus.FAILED, "error": reason, "finished_at": at}
                )
                if sub.status == SubStepStatus.IN_PROGRESS
                else sub
            )
            for sub_name, sub in phase.sub_steps.items()
        }
        phases[name] = phase.model_copy(update={"sub_steps": sub_steps})
    return progress.model_copy(update={"phases": phases})


def first_failure(progress: Step6Progress) -> tuple[str, str, SubStepProgress] | None:
    """The first failed sub-step, blocking ones first."""
    failed = [
        (phase, name, sub)
        for phase in PHASE_NAMES
        for name, sub in progress.phases.get(phase, PhaseProgress()).sub_steps.items()
        if sub.status == SubStepStatus.FAILED
    ]
    failed.sort(key=lambda f: (not SUB_STEPS[f[1]].blocking, PHASE_NAMES.index(f[0])))
    return failed[0] if failed else None


def settle(
    job: Job, execution: ExecutionStatus, *, execution_arn: str, cause: str | None, at: datetime
) -> Settlement:
    """The job's state once `execution` has ended with `execution` status."""
    assert job.execution_config is not None  # only a job past Step 5 has executions
    progress = job.step6_progress
    if execution != ExecutionStatus.SUCCEEDED:
        progress = interrupt_stale(
            progress,
            f"interrupted: execution {execution.value.lower()}" + (f" ({cause})" if cause else ""),
            at,
        )
    failure = first_failure(progress)
    last_failure: LastFailure | None = None
    if failure is not None:
        phase, name, sub = failure
        last_failure = LastFailure(
            phase=phase,
            sub_step=name,
            error=sub.error or "failed",
            at=sub.finished_at or at,
            execution=execution_arn,
        )
    if execution == ExecutionStatus.SUCCEEDED:
        step6 = StepStatus.COMPLETED
        status = StepStatus.COMPLETED
    else:
        step6 = StepStatus.FAILED
        status = StepStatus.ACTION_REQUIRED
        if last_failure is None:
            last_failure = LastFailure(
                phase=current_phase(progress),
                sub_step=None,
                error=f"execution {execution.value.lower()}" + (f": {cause}" if cause else ""),
                at=at,
                execution=execution_arn,
            )
    steps = [
        s.model_copy(
            update={"status": step6, "completed_at": at if step6 == StepStatus.COMPLETED else None}
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
        in (StepStatus.FAILED, StepStatus.COMPLETED, StepStatus.ACTION_REQUIRED)
    )


def batch_status(counts: Mapping[StepStatus, int]) -> BatchStatus:
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
    if counts.get(StepStatus.COMPLETED, 0) == total:
        return BatchStatus.COMPLETED
    return BatchStatus.PENDING
