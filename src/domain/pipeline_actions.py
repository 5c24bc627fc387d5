"""The API's side of Steps 1-4: starting the JobPipeline, retrying a failed step, and the
operator's answers to Step 2 and Step 3 (docs/architecture.md §14).

Each starts a JobPipeline execution at the step that follows, exactly as a Step 6 resume
starts at its resume point: the job is claimed for the execution's run in one conditional
write (one execution at a time; nothing changed since it was read), then the execution starts
with `from_step`. If Step Functions refuses, the step is recorded failed with the reason, so
that the operator can retry it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from clients.executions import ExecutionRunner, ExecutionStartError
from clients.registers import CompanyRegister
from domain.audit import record_event
from domain.errors import InvalidRequestError, NotWaitingError, StepNotFailedError
from domain.observability import logger
from domain.phones import normalise_phone
from domain.pipeline import (
    RETRYABLE_STEPS,
    execution_name,
    pipeline_of,
    prospect_of,
    with_step,
)
from domain.pipeline_failures import record_failure, settle_stale
from state.errors import ConflictError
from state.models import Job, Prospect, StepSource, StepStatus
from state.repository import JobRepository

# How many JobPipeline executions a new batch starts at once.
START_CONCURRENCY = 16


@dataclass(frozen=True)
class PipelineApiDeps:
    jobs: JobRepository
    executions: ExecutionRunner  # the JobPipeline state machine
    register: CompanyRegister
    phone_region: str = "NZ"  # a national phone number's country


def first_claim(job: Job, executions: ExecutionRunner) -> Job:
    """A new job from a website, created already held by its first execution (Step 1)."""
    pipeline = pipeline_of(job).model_copy(
        update={"runs": 1, "execution": executions.execution_arn(execution_name(job.job_id, 1))}
    )
    return job.model_copy(
        update={
            "pipeline": pipeline,
            "steps": with_step(job.steps, 1, StepStatus.IN_PROGRESS),
            "status": StepStatus.IN_PROGRESS,
        }
    )


def start_created(deps: PipelineApiDeps, created: Iterable[Job]) -> None:
    """Start the first execution of each new job created from a website (a few at a time)."""
    waiting = [j for j in created if j.pipeline is not None and j.pipeline.execution]
    if not waiting:
        return
    with ThreadPoolExecutor(max_workers=min(START_CONCURRENCY, len(waiting))) as pool:
        list(pool.map(lambda job: _start_recorded(deps, job), waiting))


def _start_recorded(deps: PipelineApiDeps, job: Job) -> None:
    """A new job's first start: a refusal is recorded on the job (Step 1 failed), not raised,
    so that one job's refusal never fails the batch's creation."""
    with contextlib.suppress(ExecutionStartError):
        _start(deps, job, 1)


def _start(deps: PipelineApiDeps, job: Job, step: int) -> None:
    pipeline = pipeline_of(job)
    assert pipeline.execution is not None
    name = pipeline.execution.rsplit(":", 1)[-1]
    try:
        deps.executions.start(name, {"job_id": job.job_id, "from_step": step})
    except ExecutionStartError as error:
        logger.warning("JobPipeline did not start", job_id=job.job_id, error=str(error))
        record_failure(
            deps.jobs,
            job.job_id,
            pipeline.execution,
            "ExecutionStartError",
            f"Step {step} could not start; try again",
        )
        raise


def _claim_and_start(
    deps: PipelineApiDeps,
    job: Job,
    step: int,
    *,
    steps_before: Iterable[tuple[int, StepStatus, StepSource | None]] = (),
    restaurant: Prospect | None = None,
    company_number: str | None = None,
) -> Job:
    pipeline = pipeline_of(job)
    if pipeline.execution is not None:
        raise ConflictError("Steps 1-4 are already running", active_execution=pipeline.execution)
    steps = job.steps
    for number, status, source in steps_before:
        steps = with_step(steps, number, status, source)
    steps = with_step(steps, step, StepStatus.IN_PROGRESS)
    run = pipeline.runs + 1
    arn = deps.executions.execution_arn(execution_name(job.job_id, run))
    update: dict[str, object] = {"runs": run}
    if company_number is not None:
        update["company_number"] = company_number
    next_pipeline = pipeline.model_copy(update=update)
    deps.jobs.claim_pipeline(
        job,
        arn,
        steps=steps,
        status=StepStatus.IN_PROGRESS,
        current_step=step,
        pipeline=next_pipeline,
        restaurant=restaurant,
    )
    held = job.model_copy(
        update={
            "steps": steps,
            "status": StepStatus.IN_PROGRESS,
            "current_step": step,
            "pipeline": next_pipeline.model_copy(update={"execution": arn}),
            "last_failure": None,
            "restaurant": restaurant or job.restaurant,
        }
    )
    _start(deps, held, step)
    return held


def retry_step(deps: PipelineApiDeps, org_id: str, job_id: str, step: int, *, actor: str) -> Job:
    """Run a failed step again (Steps 1, 2, 4); a completed step never runs again."""
    job = deps.jobs.get_job_for_org(org_id, job_id)
    job = settle_stale(deps.jobs, deps.executions, job, older_than=timedelta(0))
    if step not in RETRYABLE_STEPS:
        raise InvalidRequestError(
            f"only Steps {', '.join(map(str, RETRYABLE_STEPS))} can be retried", field="n"
        )
    if job.pipeline is None or job.step(step).status != StepStatus.FAILED:
        raise StepNotFailedError(
            f"Step {step} of job {job.job_id} is {job.step(step).status.value}: only a failed "
            "step is retried"
        )
    held = _claim_and_start(deps, job, step)
    record_event(deps.jobs, job.job_id, "step_retry_requested", {"step": step}, actor=actor)
    return held


def answer_step2(
    deps: PipelineApiDeps, org_id: str, job_id: str, email: str, phone: str, *, actor: str
) -> Job:
    """The operator's contact details complete Step 2; Step 3's search starts."""
    job = deps.jobs.get_job_for_org(org_id, job_id)
    job = settle_stale(deps.jobs, deps.executions, job, older_than=timedelta(0))
    if job.pipeline is None or job.step(2).status not in (
        StepStatus.ACTION_REQUIRED,
        StepStatus.FAILED,
    ):
        raise NotWaitingError(
            f"Step 2 of job {job.job_id} is {job.step(2).status.value}: it takes the operator's "
            "answer only while it waits for one (action_required) or has failed"
        )
    normalised = normalise_phone(phone, deps.phone_region)
    if normalised is None:
        raise InvalidRequestError(f"{phone!r} is not a valid phone number", field="phone")
    prospect = prospect_of(job).model_copy(update={"email": email, "phone": normalised})
    held = _claim_and_start(
        deps,
        job,
        3,
        steps_before=[(2, StepStatus.COMPLETED, StepSource.USER)],
        restaurant=prospect,
    )
    record_event(deps.jobs, job.job_id, "step_answered", {"step": 2}, actor=actor)
    return held


def answer_step3(
    deps: PipelineApiDeps, org_id: str, job_id: str, company_number: str, *, actor: str
) -> Job:
    """The operator's company completes Step 3 (one of the candidates, or any number the
    register knows: 422 otherwise); Step 4 starts."""
    job = deps.jobs.get_job_for_org(org_id, job_id)
    job = settle_stale(deps.jobs, deps.executions, job, older_than=timedelta(0))
    if job.pipeline is None or job.step(3).status != StepStatus.ACTION_REQUIRED:
        raise NotWaitingError(
            f"Step 3 of job {job.job_id} is {job.step(3).status.value}: it takes the operator's "
            "choice only while it waits for one (action_required)"
        )
    offered = {c.company_number for c in job.pipeline.companies or []}
    if company_number not in offered:
        known = deps.register.details(company_number, job_id=job.job_id)
        if known is None:
            raise InvalidRequestError(
                f"the company register does not know company {company_number!r}",
                field="company_number",
            )
    held = _claim_and_start(
        deps,
        job,
        4,
        steps_before=[(3, StepStatus.COMPLETED, StepSource.USER)],
        company_number=company_number,
    )
    record_event(
        deps.jobs, job.job_id, "step_answered", {"step": 3, "company": company_number}, actor=actor
    )
    return held
