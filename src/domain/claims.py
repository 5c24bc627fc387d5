"""One run at a time per job: claiming a job for an execution, and the steps it moves."""

from __future__ import annotations

from domain.audit import record_event
from domain.history import open_run
from domain.observability import logger
from state.errors import SupersededExecutionError
from state.models import (
    ExecutionConfig,
    Job,
    PhaseName,
    RunTrigger,
    Step6Progress,
    StepState,
    StepStatus,
    utc_now,
)
from state.repository import JobRepository


def with_step(steps: list[StepState], number: int, status: StepStatus) -> list[StepState]:
    return [s.model_copy(update={"status": status}) if s.step == number else s for s in steps]


def execution_name(job_id: str, run_number: int) -> str:
    """Deterministic per job and run: a repeated StartExecution cannot start a twin."""
    return f"{job_id}-run-{run_number}"


def claim_new_run(
    jobs: JobRepository,
    job: Job,
    execution_arn: str,
    *,
    trigger: RunTrigger = "console",
    actor: str = "console",
    resume_from: PhaseName | None = None,
    steps: list[StepState] | None = None,
    execution_config: ExecutionConfig | None = None,
    progress: Step6Progress | None = None,
    operation_id: str | None = None,
) -> None:
    """Claim `job` (as read) for its next run; ConflictError when a run holds it.

    The defaults describe a run started outside the API (from the console).
    `progress`, when given, replaces the job's progress in the same write (a re-run's reset).
    """
    jobs.claim_new_run(
        job,
        execution_arn,
        steps=with_step(steps if steps is not None else job.steps, 6, StepStatus.IN_PROGRESS),
        run=open_run(
            job,
            execution_arn,
            trigger=trigger,
            actor=actor,
            resume_from=resume_from,
            at=utc_now(),
            progress=progress,
            operation_id=operation_id,
        ),
        execution_config=execution_config,
        progress=progress,
    )


def claim_for_execution(
    jobs: JobRepository, job_id: str, execution_arn: str, *, job: Job | None = None
) -> Job:
    """Make sure `execution_arn` owns the job: it already does, or it is being redriven.

    A redrive re-runs a failed state of the most recent execution; any older execution is
    superseded and fails fast without touching the job. `job`, when given, is the job as the
    caller has just read it (one read fewer).
    """
    job = job if job is not None else jobs.get_job(job_id)
    if job.active_execution == execution_arn:
        return job
    if job.active_execution is None and job.latest_execution == execution_arn:
        jobs.reclaim_for_redrive(
            job,
            execution_arn,
            steps=with_step(job.steps, 6, StepStatus.IN_PROGRESS),
            run=open_run(
                job,
                execution_arn,
                trigger="redrive",
                actor="console",
                resume_from=None,
                at=utc_now(),
            ),
        )
        record_event(jobs, job_id, "run_redriven", {"execution": execution_arn})
        logger.info("job reclaimed by a redriven execution", execution=execution_arn)
        return jobs.get_job(job_id)
    raise SupersededExecutionError(
        f"execution {execution_arn} does not own job {job_id}",
        active_execution=job.active_execution,
    )
