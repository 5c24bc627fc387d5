"""A job's runs history: what each run was asked to do, by whom, and what it did. Pure.

A row is opened when a run claims the job (with each sub-step's status and attempts as they
were: the baseline) and closed when the run settles: the run did the difference.
"""

from __future__ import annotations

from datetime import datetime

from state.models import (
    PHASE_NAMES,
    ErrorCode,
    Job,
    LastFailure,
    PhaseName,
    RunRecord,
    RunStatus,
    RunSubStep,
    RunTrigger,
    Step6Progress,
    StepStatus,
    SubStepProgress,
    SubStepStatus,
)


def _sub_steps(progress: Step6Progress) -> dict[str, SubStepProgress]:
    return {
        name: sub
        for phase in PHASE_NAMES
        if phase in progress.phases
        for name, sub in progress.phases[phase].sub_steps.items()
    }


def open_run(
    job: Job,
    execution_arn: str,
    *,
    trigger: RunTrigger,
    actor: str,
    resume_from: PhaseName | None,
    at: datetime,
    progress: Step6Progress | None = None,
    operation_id: str | None = None,
) -> RunRecord:
    """The row of the run that is claiming `job` now (`progress`: as the claim leaves it)."""
    current = _sub_steps(progress if progress is not None else job.step6_progress)
    return RunRecord(
        job_id=job.job_id,
        run=job.runs_recorded + 1,
        execution_arn=execution_arn,
        trigger=trigger,
        actor=actor,
        operation_id=operation_id,
        resume_from=resume_from,
        started_at=at,
        baseline={name: (sub.status, sub.attempts) for name, sub in current.items()},
    )


def _run_status(execution_status: str) -> RunStatus:
    statuses: dict[str, RunStatus] = {
        "SUCCEEDED": "succeeded",
        "TIMED_OUT": "timed_out",
        "ABORTED": "aborted",
    }
    return statuses.get(execution_status, "failed")


def close_run(
    run: RunRecord,
    progress: Step6Progress,
    *,
    execution_status: str,
    step6: StepStatus,
    last_failure: LastFailure | None,
    at: datetime,
) -> RunRecord:
    """`run` as it ended: each sub-step it attempted or skipped, with what came of it."""
    touched: dict[str, RunSubStep] = {}
    for name, sub in _sub_steps(progress).items():
        before_status, before_attempts = run.baseline.get(name, (SubStepStatus.PENDING, 0))
        made = sub.attempts - before_attempts
        if made <= 0 and sub.status == before_status:
            continue
        touched[name] = RunSubStep(
            status=sub.status,
            attempts=max(made, 0),
            started_at=sub.started_at if made > 0 else None,
            ended_at=sub.finished_at,
            error_code=sub.error_code if sub.status == SubStepStatus.FAILED else None,
            error=sub.error if sub.status == SubStepStatus.FAILED else None,
            skip_reason=sub.skip_reason,
        )
    failed = execution_status != "SUCCEEDED"
    code: ErrorCode | None = last_failure.error_code if last_failure and failed else None
    return run.model_copy(
        update={
            "ended_at": at,
            "status": _run_status(execution_status),
            "step6_status": step6,
            "error_code": code,
            "sub_steps": touched,
        }
    )
