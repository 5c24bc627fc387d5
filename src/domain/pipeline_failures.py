"""A JobPipeline step that failed, recorded once (docs/architecture.md §14): from the state
machine's Catch (`handlers.pipeline_steps.failed`), or when its execution could not start."""

from __future__ import annotations

from datetime import timedelta

from clients.executions import ExecutionRunner, ExecutionStatusUnavailableError
from domain.audit import record_event
from domain.observability import logger
from domain.pipeline import pipeline_of, step_failure, with_step
from state.models import Job, StepStatus, utc_now
from state.repository import JobRepository

# How a JobPipeline execution that ended without recording its step is named, by its status.
_ENDED = {"ABORTED": "ExecutionAborted", "TIMED_OUT": "States.Timeout"}


def record_failure(
    jobs: JobRepository, job_id: str, execution_arn: str, error_name: str, cause: str | None
) -> None:
    """The step the job is at failed (the state machine's Catch): recorded once, by the
    execution that holds the job; an execution that no longer does changes nothing.

    Step 3's search failing leaves Step 3 waiting for the operator, who may type any number
    the register knows; Steps 1, 2 and 4 fail and can be retried from themselves.
    """
    job = jobs.get_job(job_id)
    pipeline = pipeline_of(job)
    if pipeline.execution != execution_arn:
        logger.info("a superseded JobPipeline execution failed", execution=execution_arn)
        return
    step = job.current_step
    failure = step_failure(step, error_name, cause, execution_arn)
    released = pipeline.model_copy(update={"execution": None})
    if step == 3:
        jobs.advance_pipeline(
            job,
            execution_arn,
            steps=with_step(job.steps, 3, StepStatus.ACTION_REQUIRED),
            status=StepStatus.ACTION_REQUIRED,
            current_step=3,
            pipeline=released.model_copy(
                update={"companies": [], "companies_error": failure.error}
            ),
        )
        return
    jobs.advance_pipeline(
        job,
        execution_arn,
        steps=with_step(job.steps, step, StepStatus.FAILED),
        status=StepStatus.FAILED,
        current_step=step,
        pipeline=released,
        last_failure=failure,
    )
    record_event(
        jobs,
        job.job_id,
        "step_failed",
        {"step": step, "error_code": failure.error_code.value, "error": failure.error},
    )


def settle_stale(
    jobs: JobRepository, executions: ExecutionRunner, job: Job, *, older_than: timedelta
) -> Job:
    """A job still held by a JobPipeline execution that has ended without recording its step
    (stopped from the console, a RecordFailure that failed for good): its step is recorded
    failed now, as Step 6's reads settle a run whose end was not recorded. Jobs whose standing
    changed less than `older_than` ago, and executions still running, are left alone."""
    pipeline = job.pipeline
    if pipeline is None or pipeline.execution is None:
        return job
    if utc_now() - job.updated_at < older_than:
        return job
    try:
        status, error, cause = executions.status(pipeline.execution)
    except ExecutionStatusUnavailableError:
        logger.warning("JobPipeline execution not described", execution=pipeline.execution)
        return job
    if status == "RUNNING":
        return job
    settle_ended(jobs, job.job_id, pipeline.execution, status, error, cause)
    return jobs.get_job(job.job_id)


def settle_ended(
    jobs: JobRepository,
    job_id: str,
    execution_arn: str,
    status: str,
    error: str | None,
    cause: str | None,
) -> None:
    """A JobPipeline execution ended (its EventBridge status change, or a read that found it
    ended): if it still holds the job, its step was not recorded and is recorded failed now.
    One that no longer holds it (its step was recorded, or a newer run took over) changes
    nothing, so a late or repeated event is harmless."""
    # A stop's own error name is whatever its caller typed: the status says what happened.
    name = _ENDED.get(status) or error or "ExecutionEnded"
    reason = cause or f"the Steps 1-4 run ended ({status.lower()}) without recording this step"
    record_failure(jobs, job_id, execution_arn, name, reason)
