"""Recording a finished execution's outcome on its job: the one place that does."""

from __future__ import annotations

import random
import time
from datetime import datetime

from clients.executions import ExecutionRunner, ExecutionStatusUnavailableError
from domain.audit import record_event
from domain.history import close_run
from domain.observability import logger
from domain.operation_outcomes import run_settled
from domain.outcome import ExecutionStatus, Settlement, settle
from state.errors import ConflictError
from state.models import Job, RunRecord, utc_now
from state.repository import JobRepository

# Settling retries a write that lost while the execution still owns the job (full jitter).
SETTLE_ATTEMPTS = 5
SETTLE_RETRY_BASE_S = 0.05


def settle_execution(
    jobs: JobRepository,
    job_id: str,
    execution_arn: str,
    status: ExecutionStatus,
    cause: str | None,
    *,
    error: str | None = None,
    job: Job | None = None,
) -> Job:
    """Record the job-level outcome of a finished execution; return the job as settled.

    Idempotent: an execution that no longer owns the job (already settled, or superseded)
    changes nothing. A write that loses while the execution still owns the job is retried
    from a fresh read: the progress moved under it (a late checkpoint), or DynamoDB cancelled
    the transaction because another met it on the same item (two jobs of one batch settling at
    once move the same batch counters). It never passes for "settled elsewhere", or the job
    would wait behind a finished execution. `job`, when given, is the job as just read.
    """
    job = job if job is not None else jobs.get_job(job_id)
    for attempt in range(1, SETTLE_ATTEMPTS + 1):
        if job.active_execution != execution_arn or status == ExecutionStatus.RUNNING:
            return job
        at = utc_now()
        outcome = settle(job, status, execution_arn=execution_arn, cause=cause, error=error, at=at)
        closed = _closed_run(jobs, job, execution_arn, status, outcome, at)
        try:
            jobs.settle_run(
                job,
                execution_arn,
                status=outcome.status,
                current_step=outcome.current_step,
                steps=outcome.steps,
                progress=outcome.progress,
                last_failure=outcome.last_failure,
                run=closed,
            )
        except ConflictError:
            job = jobs.get_job(job_id)
            if job.active_execution != execution_arn:
                logger.info("execution already settled elsewhere", execution=execution_arn)
                return job
            if attempt == SETTLE_ATTEMPTS:
                raise
            logger.warning("settling conflicted, retrying", execution=execution_arn)
            time.sleep(random.uniform(0, SETTLE_RETRY_BASE_S * 2**attempt))
            continue
        _record_settled(jobs, job_id, execution_arn, status, outcome)
        settled = outcome.applied_to(job)
        run_settled(jobs, settled, closed)  # a bulk operation's item waits on it (§13)
        return settled
    raise AssertionError("unreachable")  # pragma: no cover


def _closed_run(
    jobs: JobRepository,
    job: Job,
    execution_arn: str,
    status: ExecutionStatus,
    outcome: Settlement,
    at: datetime,
) -> RunRecord | None:
    """The job's latest row of the runs history, closed, if it is this execution's."""
    run = jobs.get_run(job.job_id, job.runs_recorded) if job.runs_recorded else None
    if run is None or run.execution_arn != execution_arn:
        return None
    step6 = next(s.status for s in outcome.steps if s.step == 6)
    return close_run(
        run,
        outcome.progress,
        execution_status=status.value,
        step6=step6,
        last_failure=outcome.last_failure,
        at=at,
    )


def _record_settled(
    jobs: JobRepository,
    job_id: str,
    execution_arn: str,
    status: ExecutionStatus,
    outcome: Settlement,
) -> None:
    failure = outcome.last_failure
    record_event(
        jobs,
        job_id,
        "run_succeeded" if status == ExecutionStatus.SUCCEEDED else "run_failed",
        {
            "execution": execution_arn,
            "execution_status": status.value,
            "job_status": outcome.status.value,
            "last_failure": failure.model_dump(mode="json") if failure else None,
        },
    )
    logger.info(
        "job settled", job_id=job_id, execution_status=status.value, job_status=outcome.status
    )


def reconcile_stale(jobs: JobRepository, executions: ExecutionRunner, job: Job) -> Job:
    """Settle a job whose execution ended without its status-change event arriving."""
    if job.active_execution is None:
        return job
    try:
        status, error, cause = executions.status(job.active_execution)
    except ExecutionStatusUnavailableError:
        # Left for the status-change event or a later read to settle.
        logger.warning("cannot describe execution", execution=job.active_execution, exc_info=True)
        return job
    if status == ExecutionStatus.RUNNING.value:
        return job
    return settle_execution(
        jobs, job.job_id, job.active_execution, ExecutionStatus(status), cause, error=error
    )
