"""A JobPipeline step that failed, recorded once (docs/architecture.md §14): from the state
machine's Catch (`handlers.pipeline_steps.failed`), or when its execution could not start."""

from __future__ import annotations

from domain.audit import record_event
from domain.observability import logger
from domain.pipeline import pipeline_of, step_failure, with_step
from state.models import StepStatus
from state.repository import JobRepository


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
