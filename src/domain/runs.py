"""Starting a Step 6 run: claim the job, then start its execution at the resume point."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from clients.executions import ExecutionRunner
from domain.audit import record_event
from domain.claims import claim_new_run, execution_name, with_step
from domain.errors import NotResumableError
from domain.observability import logger
from domain.outcome import is_resumable
from domain.resume import resume_point
from domain.settlement import reconcile_stale
from state.errors import ConflictError
from state.models import (
    SYSTEM_ACTOR,
    ExecutionConfig,
    Job,
    PhaseName,
    RunTrigger,
    Step6Progress,
    StepState,
)
from state.repository import JobRepository


@dataclass(frozen=True)
class StartedRun:
    job_id: str
    execution_arn: str
    resume_from: PhaseName


def start_run(
    jobs: JobRepository,
    executions: ExecutionRunner,
    job: Job,
    *,
    reason: str,
    trigger: RunTrigger,
    actor: str,
    steps: list[StepState] | None = None,
    execution_config: ExecutionConfig | None = None,
    progress: Step6Progress | None = None,
    detail: Mapping[str, Any] | None = None,
    operation_id: str | None = None,
) -> StartedRun:
    """Claim the job for a new run, then start its execution at the resume point.

    `steps` and `execution_config` (Step 5's submission) and `progress` (a re-run's reset),
    when given, are written with the claim. If Step Functions refuses the start, the claim is
    handed back. `reason` is the audit event recorded, with `detail` added to it.
    """
    config = execution_config or job.execution_config
    progress_now = progress if progress is not None else job.step6_progress
    point = resume_point(config, progress_now)
    if point is None:
        raise NotResumableError(f"job {job.job_id}: every Step 6 phase is already completed")
    name = execution_name(job.job_id, job.run_number + 1)
    arn = executions.execution_arn(name)
    claim_new_run(
        jobs,
        job,
        arn,
        trigger=trigger,
        actor=actor,
        resume_from=point,
        steps=steps,
        execution_config=execution_config,
        progress=progress,
        operation_id=operation_id,
    )
    payload: dict[str, Any] = {"job_id": job.job_id}
    if point != "phase1":
        payload["resume_from"] = point
    try:
        executions.start(name, payload)
    except Exception:
        # Hand the claim back so that the job is not stuck behind an execution that never ran.
        latest = jobs.get_job(job.job_id)
        jobs.release_claim(
            latest,
            arn,
            steps=with_step(latest.steps, 6, job.step(6).status),
            status=job.status,
        )
        raise
    # one such event per run claimed: at most run_number of them
    record_event(
        jobs,
        job.job_id,
        reason,
        {"execution": arn, "resume_from": point, **(detail or {})},
        at_most=job.run_number + 1,
        actor=actor,
    )
    logger.info("run started", job_id=job.job_id, execution=arn, resume_from=point)
    return StartedRun(job.job_id, arn, point)


def resume_job(
    jobs: JobRepository,
    executions: ExecutionRunner,
    job: Job,
    *,
    actor: str = SYSTEM_ACTOR,
    trigger: RunTrigger = "resume",
    operation_id: str | None = None,
) -> StartedRun:
    job = reconcile_stale(jobs, executions, job)
    if job.active_execution is not None:
        raise ConflictError("a Step 6 run is already active", active_execution=job.active_execution)
    if not is_resumable(job):
        raise NotResumableError(f"job {job.job_id} has nothing to resume")
    return start_run(
        jobs,
        executions,
        job,
        reason="resume_requested",
        trigger=trigger,
        actor=actor,
        operation_id=operation_id,
    )


def resume_one(
    jobs: JobRepository,
    executions: ExecutionRunner,
    org_id: str,
    job_id: str,
    *,
    actor: str = SYSTEM_ACTOR,
) -> StartedRun:
    """Resume one of the org's jobs; ConflictError if running, NotResumableError if done."""
    return resume_job(jobs, executions, jobs.get_job_for_org(org_id, job_id), actor=actor)
