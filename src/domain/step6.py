"""Step 6 use cases: prepare a run, run a phase, complete, settle, start and resume."""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from clients.executions import ExecutionRunner, ExecutionStatusUnavailableError
from clients.platform import CallMeta
from domain.catalogue import SUB_STEPS, sub_steps_of
from domain.context import reconstruct_context
from domain.deps import Step6Deps
from domain.errors import BlockingSubStepFailedError, InvalidResumePointError, NotResumableError
from domain.observability import logger, metrics
from domain.outcome import ExecutionStatus, is_resumable, settle
from domain.planner import phase_status, plan_phase
from domain.resume import last_completed_phase, resume_point
from domain.runner import PhaseRunner
from domain.substeps import SUB_STEP_LOGIC
from domain.substeps.base import SubStepInput
from state.errors import ConflictError, SupersededExecutionError
from state.models import (
    PHASE_NAMES,
    Job,
    JobStatus,
    PhaseName,
    PhaseStatus,
    SkipReason,
    StepState,
    StepStatus,
    SubStepProgress,
    SubStepStatus,
    utc_now,
)
from state.repository import JobRepository

# Settling retries a write that lost while the execution still owns the job (full jitter).
SETTLE_ATTEMPTS = 5
SETTLE_RETRY_BASE_S = 0.05

# A job is free when no execution holds it; None is stored as a NULL attribute.
NOT_ACTIVE = "(attribute_not_exists(active_execution) OR attribute_type(active_execution, :null))"
NULL_TYPE = {":null": "NULL"}


def execution_name(job_id: str, run_number: int) -> str:
    """Deterministic per job and run: a repeated StartExecution cannot start a twin."""
    return f"{job_id}-run-{run_number}"


def with_step(steps: list[StepState], number: int, status: StepStatus) -> list[StepState]:
    return [s.model_copy(update={"status": status}) if s.step == number else s for s in steps]


# ---------------------------------------------------------------------- audit trail

# The audit trail is bounded where a job can repeat itself without end: a sub-step that fails
# on every resume adds a resume, a sub-step failure and a failed run each time. A job keeps the
# newest EVENTS_KEPT events of each of these kinds (the latest failures stay visible, with the
# attempt count and last error in the progress itself); one-off events (job_created,
# step5_submitted) are kept as they are.
EVENTS_KEPT = 10
BOUNDED_EVENTS = frozenset(
    {
        "sub_step_failed",
        "run_failed",
        "run_succeeded",
        "resume_requested",
        "run_redriven",
        "run_started",
    }
)


def record_event(
    jobs: JobRepository,
    job_id: str,
    event_type: str,
    detail: Mapping[str, Any],
    *,
    at_most: int | None = None,
) -> None:
    """Append an event; trim its kind to the newest EVENTS_KEPT if it is a bounded kind.

    `at_most`, when the caller knows it, bounds how many events of this kind the job can have
    (e.g. one resume per run): while it is within EVENTS_KEPT the trim's query is skipped, so
    a batch-wide resume pays nothing for the bound until a job has been resumed ten times.
    """
    jobs.append_event(job_id, event_type, detail)
    if event_type not in BOUNDED_EVENTS or (at_most is not None and at_most <= EVENTS_KEPT):
        return
    try:
        jobs.trim_events(job_id, event_type, EVENTS_KEPT)
    except Exception:  # noqa: BLE001 - trimmed again with the next event of its kind
        logger.warning("audit trail not trimmed", event_type=event_type, exc_info=True)


# ---------------------------------------------------------------------- claims


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
        jobs.update_job(
            job,
            set_fields={
                "active_execution": execution_arn,
                "steps": with_step(job.steps, 6, StepStatus.IN_PROGRESS),
                "current_step": 6,
            },
            condition=f"{NOT_ACTIVE} AND latest_execution = :arn",
            values=NULL_TYPE | {":arn": execution_arn},
            status_change=JobStatus.IN_PROGRESS,
            conflict=SupersededExecutionError,
            conflict_message=f"execution {execution_arn} was superseded",
        )
        record_event(jobs, job_id, "run_redriven", {"execution": execution_arn})
        logger.info("job reclaimed by a redriven execution", execution=execution_arn)
        return jobs.get_job(job_id)
    raise SupersededExecutionError(
        f"execution {execution_arn} does not own job {job_id}",
        active_execution=job.active_execution,
    )


def claim_new_run(
    jobs: JobRepository, job: Job, execution_arn: str, extra: dict[str, Any] | None = None
) -> None:
    jobs.update_job(
        job,
        set_fields={
            "active_execution": execution_arn,
            "latest_execution": execution_arn,
            "run_number": job.run_number + 1,
            "current_step": 6,
            "steps": with_step(job.steps, 6, StepStatus.IN_PROGRESS),
            **(extra or {}),
        },
        condition=f"{NOT_ACTIVE} AND run_number = :previous_run",
        values=NULL_TYPE | {":previous_run": job.run_number},
        status_change=JobStatus.IN_PROGRESS,
        conflict_message="a Step 6 run is already active for this job",
    )


# ---------------------------------------------------------------------- state machine tasks


def prepare_run(
    jobs: JobRepository, job_id: str, execution_arn: str, resume_from: str | None
) -> dict[str, Any]:
    job = jobs.get_job(job_id)
    if job.execution_config is None or job.step(5).status != StepStatus.COMPLETED:
        raise NotResumableError(f"job {job_id} has no completed Step 5 configuration")
    if job.active_execution != execution_arn and job.latest_execution != execution_arn:
        # Started outside the API (e.g. from the console): claim it as a new run.
        claim_new_run(jobs, job, execution_arn)
        record_event(jobs, job_id, "run_started", {"execution": execution_arn, "source": "direct"})
        job = jobs.get_job(job_id)
    job = claim_for_execution(jobs, job_id, execution_arn, job=job)
    point = resume_point(job.step6_progress) or "phase4"
    if resume_from is not None and (
        resume_from not in PHASE_NAMES or PHASE_NAMES.index(resume_from) > PHASE_NAMES.index(point)
    ):
        raise InvalidResumePointError(
            f"resume_from {resume_from!r} would skip {point}, which is not completed"
        )
    return {"job_id": job_id, "run_number": job.run_number, "resume_point": point}


@dataclass(frozen=True)
class PhaseSummary:
    phase: PhaseName
    status: PhaseStatus
    ran: tuple[str, ...]
    skipped: dict[str, SkipReason]

    def as_dict(self) -> dict[str, Any]:
        return {
            "phase": self.phase,
            "status": self.status.value,
            "ran": list(self.ran),
            "skipped": {k: v.value for k, v in self.skipped.items()},
        }


def run_phase(deps: Step6Deps, job_id: str, phase: PhaseName, execution_arn: str) -> PhaseSummary:
    """Plan the phase from persisted progress, run what is left, checkpoint everything."""
    job = claim_for_execution(deps.jobs, job_id, execution_arn)
    logger.thread_safe_append_keys(job_id=job_id, batch_id=job.batch_id, phase=phase)
    config = job.execution_config
    if config is None:
        raise NotResumableError(f"job {job_id} has no execution config")
    plan = plan_phase(phase, config, job.step6_progress)
    current_status = job.step6_progress.phases[phase].status
    if not plan.run and not plan.skip and current_status == PhaseStatus.COMPLETED:
        # A resume that starts earlier than needed, or a redrive, passes through for free.
        logger.info("phase already completed")
        return PhaseSummary(phase, current_status, (), {})
    logger.info(
        "phase planned", run=list(plan.run), skip={k: v.value for k, v in plan.skip.items()}
    )
    now = utc_now()
    existing = job.step6_progress.phases[phase].sub_steps
    skips = {
        name: SubStepProgress(
            status=SubStepStatus.SKIPPED,
            skip_reason=reason,
            attempts=existing[name].attempts if name in existing else 0,
            finished_at=now,
        )
        for name, reason in plan.skip.items()
    }
    deps.jobs.set_phase_status(
        job_id,
        execution_arn,
        phase,
        PhaseStatus.IN_PROGRESS,
        last_completed_phase=last_completed_phase(job.step6_progress),
        skips=skips,
    )

    def execute(name: str, so_far: Mapping[str, SubStepProgress]) -> dict[str, Any]:
        # Context comes from persisted outputs plus this run's in-phase results.
        current = job.step6_progress.model_copy(deep=True)
        current.phases[phase].sub_steps.update(so_far)
        context = reconstruct_context(current)
        return SUB_STEP_LOGIC[name](
            SubStepInput(
                job_id=job_id,
                restaurant=job.restaurant,
                config=config,
                context=context,
                meta=CallMeta(job_id=job_id, sub_step=name, restaurant_name=job.restaurant.name),
                platform=deps.platform,
                store=deps.store,
                secrets=deps.secrets,
            )
        )

    def checkpoint(name: str, progress: SubStepProgress) -> None:
        deps.jobs.checkpoint_sub_step(job_id, execution_arn, phase, name, progress)

    results = PhaseRunner(checkpoint=checkpoint, execute=execute, retry=deps.retry).run(
        plan, dict(existing)
    )
    final = job.step6_progress.model_copy(deep=True)
    final.phases[phase].sub_steps.update(skips | results)
    status = phase_status(phase, config, final)
    final.phases[phase].status = status
    deps.jobs.set_phase_status(
        job_id, execution_arn, phase, status, last_completed_phase=last_completed_phase(final)
    )
    logger.info("phase finished", status=status.value)
    metrics.add_metric(
        name=f"Phase{status.value.title().replace('_', '')}", unit=MetricUnit.Count, value=1
    )
    if status == PhaseStatus.FAILED:
        name, sub = next(
            (n, s)
            for n, s in final.phases[phase].sub_steps.items()
            if s.status == SubStepStatus.FAILED and SUB_STEPS[n].blocking
        )
        record_event(
            deps.jobs,
            job_id,
            "sub_step_failed",
            {"phase": phase, "sub_step": name, "error": sub.error, "attempts": sub.attempts},
        )
        raise BlockingSubStepFailedError(phase, name, sub.error or "failed")
    for name, sub in results.items():
        if sub.status == SubStepStatus.FAILED:
            record_event(
                deps.jobs,
                job_id,
                "sub_step_failed",
                {"phase": phase, "sub_step": name, "error": sub.error, "attempts": sub.attempts},
            )
    return PhaseSummary(phase, status, plan.run, plan.skip)


def complete_run(jobs: JobRepository, job_id: str, execution_arn: str) -> dict[str, Any]:
    owned = claim_for_execution(jobs, job_id, execution_arn)
    job = settle_execution(jobs, job_id, execution_arn, ExecutionStatus.SUCCEEDED, None, job=owned)
    return {"job_id": job_id, "status": job.status.value}


# ---------------------------------------------------------------------- settling


def progress_as_read(job: Job) -> tuple[str, dict[str, str], dict[str, Any]]:
    """A condition that holds while every sub-step's status and attempts are as in `job`.

    The settle rewrites the whole progress from what it read. A Lambda still running for the
    execution (StopExecution does not stop it) may checkpoint between that read and the write;
    without this guard the write would put back "in progress" (then "interrupted") over the
    completion it recorded. Each checkpoint moves a status or an attempt count, so comparing
    both catches every one of them.
    """
    clauses: list[str] = []
    names: dict[str, str] = {"#sst": "status"}
    values: dict[str, Any] = {}
    i = 0
    for phase, progress in job.step6_progress.phases.items():
        for name, sub in progress.sub_steps.items():
            path = f"step6_progress.phases.#ph{i}.sub_steps.#ss{i}"
            names |= {f"#ph{i}": phase, f"#ss{i}": name}
            values |= {f":st{i}": sub.status.value, f":at{i}": sub.attempts}
            clauses.append(f"{path}.#sst = :st{i} AND {path}.attempts = :at{i}")
            i += 1
    return " AND ".join(clauses) or "attribute_exists(step6_progress)", names, values


def settle_execution(
    jobs: JobRepository,
    job_id: str,
    execution_arn: str,
    status: ExecutionStatus,
    cause: str | None,
    *,
    job: Job | None = None,
) -> Job:
    """Record the job-level outcome of a finished execution (the one place that does).

    Idempotent: an execution that no longer owns the job (already settled, or superseded)
    changes nothing. The write is conditional on the execution still owning the job and on
    the progress being as read (`progress_as_read`). A write that loses while the execution
    still owns the job is retried from a fresh read: the progress moved under it (a late
    checkpoint), or DynamoDB cancelled the transaction because another one met it on the same
    item (two jobs of one batch settling at once move the same batch counters). It must never
    pass for "settled elsewhere", or the job would wait behind a finished execution. `job`,
    when given, is the job as the caller has just read it. Returns the job as settled.
    """
    job = job if job is not None else jobs.get_job(job_id)
    for attempt in range(1, SETTLE_ATTEMPTS + 1):
        if job.active_execution != execution_arn or status == ExecutionStatus.RUNNING:
            return job
        now = utc_now()
        outcome = settle(job, status, execution_arn=execution_arn, cause=cause, at=now)
        fields: dict[str, Any] = {
            "active_execution": None,
            "current_step": outcome.current_step,
            "steps": outcome.steps,
            "step6_progress": outcome.progress,
            "last_failure": outcome.last_failure,
        }
        unchanged, names, values = progress_as_read(job)
        try:
            jobs.update_job(
                job,
                set_fields=fields,
                condition=f"active_execution = :arn AND {unchanged}",
                values={":arn": execution_arn} | values,
                names=names,
                status_change=outcome.status,
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
        record_event(
            jobs,
            job_id,
            "run_succeeded" if status == ExecutionStatus.SUCCEEDED else "run_failed",
            {
                "execution": execution_arn,
                "execution_status": status.value,
                "job_status": outcome.status.value,
                "last_failure": outcome.last_failure.model_dump(mode="json")
                if outcome.last_failure
                else None,
            },
        )
        logger.info(
            "job settled",
            job_id=job_id,
            execution_status=status.value,
            job_status=outcome.status.value,
        )
        # What was just written, without reading it back.
        return job.model_copy(update=fields | {"status": outcome.status, "updated_at": now})
    raise AssertionError("unreachable")  # pragma: no cover


def reconcile_stale(jobs: JobRepository, executions: ExecutionRunner, job: Job) -> Job:
    """Settle a job whose execution ended without its status-change event arriving."""
    if job.active_execution is None:
        return job
    try:
        status, cause = executions.status(job.active_execution)
    except ExecutionStatusUnavailableError:
        # Left for the status-change event or a later read to settle.
        logger.warning("cannot describe execution", execution=job.active_execution, exc_info=True)
        return job
    if status == ExecutionStatus.RUNNING.value:
        return job
    return settle_execution(jobs, job.job_id, job.active_execution, ExecutionStatus(status), cause)


# ---------------------------------------------------------------------- starting runs


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
    extra: dict[str, Any] | None = None,
) -> StartedRun:
    """Claim the job for a new run, then start its execution at the resume point."""
    point = resume_point(job.step6_progress)
    if point is None:
        raise NotResumableError(f"job {job.job_id}: every Step 6 phase is already completed")
    name = execution_name(job.job_id, job.run_number + 1)
    arn = executions.execution_arn(name)
    claim_new_run(jobs, job, arn, extra)
    payload: dict[str, Any] = {"job_id": job.job_id}
    if point != "phase1":
        payload["resume_from"] = point
    try:
        executions.start(name, payload)
    except Exception:
        # Hand the claim back so that the job is not stuck behind an execution that never ran.
        latest = jobs.get_job(job.job_id)
        jobs.update_job(
            latest,
            set_fields={
                "active_execution": None,
                "steps": with_step(latest.steps, 6, job.step(6).status),
            },
            condition="active_execution = :arn",
            values={":arn": arn},
            status_change=job.status,
        )
        raise
    # one such event per run claimed: at most run_number of them
    record_event(
        jobs,
        job.job_id,
        reason,
        {"execution": arn, "resume_from": point},
        at_most=job.run_number + 1,
    )
    logger.info("run started", job_id=job.job_id, execution=arn, resume_from=point)
    return StartedRun(job.job_id, arn, point)


def resume_job(jobs: JobRepository, executions: ExecutionRunner, job: Job) -> StartedRun:
    job = reconcile_stale(jobs, executions, job)
    if job.active_execution is not None:
        raise ConflictError("a Step 6 run is already active", active_execution=job.active_execution)
    if not is_resumable(job):
        raise NotResumableError(f"job {job.job_id} has nothing to resume")
    return start_run(jobs, executions, job, reason="resume_requested")


def initial_progress_phases() -> dict[PhaseName, dict[str, SubStepProgress]]:
    return {
        phase: {s.name: SubStepProgress() for s in sub_steps_of(phase)} for phase in PHASE_NAMES
    }
