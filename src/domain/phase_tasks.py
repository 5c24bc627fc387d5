"""The state machine's tasks: prepare a run, run a phase, complete the run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from clients.platform import CallMeta
from clients.secrets import SecretStore, SecretStoreError
from domain.audit import record_event
from domain.catalogue import SUB_STEP_LOGIC, SUB_STEPS
from domain.claims import claim_for_execution, claim_new_run
from domain.context import reconstruct_context
from domain.deps import Step6Deps
from domain.errors import BlockingSubStepFailedError, InvalidResumePointError, NotResumableError
from domain.observability import logger, metrics
from domain.outcome import ExecutionStatus
from domain.passwords import discard_spent_password
from domain.planner import PhasePlan, phase_status, plan_phase
from domain.readiness import ready
from domain.resume import resume_point
from domain.runner import PhaseRunner
from domain.settlement import settle_execution
from domain.substeps.base import SubStepInput
from state.models import (
    PHASE_NAMES,
    ExecutionConfig,
    Job,
    PhaseName,
    PhaseStatus,
    SkipReason,
    StepStatus,
    SubStepProgress,
    SubStepStatus,
    utc_now,
)
from state.repository import JobRepository


def prepare_run(
    jobs: JobRepository, job_id: str, execution_arn: str, resume_from: str | None
) -> dict[str, Any]:
    """Claim the job for this execution and refuse a `resume_from` that would skip work."""
    job = jobs.get_job(job_id)
    config = _config_of(job)
    if job.active_execution != execution_arn and job.latest_execution != execution_arn:
        # Started outside the API (e.g. from the console): claim it as a new run.
        claim_new_run(
            jobs,
            job,
            execution_arn,
            trigger="console",
            actor="console",
            resume_from=resume_from if resume_from in PHASE_NAMES else None,
        )
        record_event(
            jobs,
            job_id,
            "run_started",
            {"execution": execution_arn, "source": "direct"},
            actor="console",
        )
        job = jobs.get_job(job_id)
    job = claim_for_execution(jobs, job_id, execution_arn, job=job)
    point = resume_point(config, job.step6_progress) or "phase4"
    if resume_from is not None and (
        resume_from not in PHASE_NAMES or PHASE_NAMES.index(resume_from) > PHASE_NAMES.index(point)
    ):
        raise InvalidResumePointError(
            f"resume_from {resume_from!r} would skip {point}, which is not completed"
        )
    return {"job_id": job_id, "run_number": job.run_number}


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
    config = _config_of(job)
    plan = plan_phase(phase, config, job.step6_progress)
    if not plan.run and not plan.skip:
        # A resume that starts earlier than needed, or a redrive, passes through for free.
        status = phase_status(phase, config, job.step6_progress)
        logger.info("nothing left to run in the phase", status=status.value)
        return PhaseSummary(phase, status, (), {})
    logger.info(
        "phase planned", run=list(plan.run), skip={k: v.value for k, v in plan.skip.items()}
    )
    existing = job.step6_progress.phases[phase].sub_steps
    skips = _skips(plan, existing)
    deps.jobs.record_skips(job_id, execution_arn, phase, skips)
    runner = PhaseRunner(
        checkpoint=partial(deps.jobs.checkpoint_sub_step, job_id, execution_arn, phase),
        # the sub-steps a round starts (and skips) together: one write, not one each
        checkpoint_many=partial(deps.jobs.record_skips, job_id, execution_arn, phase),
        execute=_SubStepCall(deps, job, config, phase),
        retry=deps.retry,
    )
    results = runner.run(plan, dict(existing))
    final = job.step6_progress.model_copy(deep=True)
    final.phases[phase].sub_steps.update(skips | results)
    status = phase_status(phase, config, final)
    logger.info("phase finished", status=status.value)
    metrics.add_metric(
        name=f"Phase{status.value.title().replace('_', '')}", unit=MetricUnit.Count, value=1
    )
    failed = {name: sub for name, sub in results.items() if sub.status == SubStepStatus.FAILED}
    for name, sub in failed.items():
        record_event(
            deps.jobs,
            job_id,
            "sub_step_failed",
            {"phase": phase, "sub_step": name, "error": sub.error, "attempts": sub.attempts},
        )
    if status == PhaseStatus.FAILED:
        name, sub = next((n, s) for n, s in failed.items() if SUB_STEPS[n].blocking)
        raise BlockingSubStepFailedError(phase, name, sub.error or "failed")
    return PhaseSummary(phase, status, plan.run, plan.skip)


def complete_run(
    jobs: JobRepository, secrets: SecretStore, job_id: str, execution_arn: str
) -> dict[str, Any]:
    """Settle the job as its run succeeded, then delete its password if no sub-step needs it."""
    owned = claim_for_execution(jobs, job_id, execution_arn)
    job = settle_execution(jobs, job_id, execution_arn, ExecutionStatus.SUCCEEDED, None, job=owned)
    try:
        discard_spent_password(jobs, secrets, job)
    except SecretStoreError:
        # Not worth failing a settled run: the reconciler deletes it when the execution ends.
        logger.warning("password secret not deleted yet", job_id=job_id, exc_info=True)
    return {"job_id": job_id, "status": job.status.value}


def _config_of(job: Job) -> ExecutionConfig:
    if job.execution_config is None or job.step(5).status != StepStatus.COMPLETED:
        raise NotResumableError(f"job {job.job_id} has no completed Step 5 configuration")
    return job.execution_config


def _skips(plan: PhasePlan, existing: Mapping[str, SubStepProgress]) -> dict[str, SubStepProgress]:
    now = utc_now()
    previous = {name: existing.get(name, SubStepProgress()) for name in plan.skip}
    return {
        name: SubStepProgress(
            status=SubStepStatus.SKIPPED,
            skip_reason=reason,
            blocked_by=list(plan.blocked_by[name]) if name in plan.blocked_by else None,
            attempts=previous[name].attempts,
            generation=previous[name].generation,
            finished_at=now,
        )
        for name, reason in plan.skip.items()
    }


@dataclass(frozen=True)
class _SubStepCall:
    """Runs one sub-step's logic with the context rebuilt from persisted outputs."""

    deps: Step6Deps
    job: Job
    config: ExecutionConfig
    phase: PhaseName

    def __call__(self, name: str, so_far: Mapping[str, SubStepProgress]) -> dict[str, Any]:
        # Context: persisted outputs plus this run's in-phase results, as the sub-step declares.
        current = self.job.step6_progress.model_copy(deep=True)
        current.phases[self.phase].sub_steps.update(so_far)
        spec = SUB_STEPS[name]
        context = reconstruct_context(current).only(spec.reads_context + spec.may_read_context)
        job = self.job
        return SUB_STEP_LOGIC[name](
            SubStepInput(
                job_id=job.job_id,
                restaurant=ready(job),
                config=self.config,
                context=context,
                meta=CallMeta(
                    job_id=job.job_id,
                    sub_step=name,
                    restaurant_name=job.restaurant.name,
                    generation=current.phases[spec.phase]
                    .sub_steps.get(name, SubStepProgress())
                    .generation,
                ),
                platform=self.deps.platform,
                store=self.deps.store,
                secrets=self.deps.secrets,
            )
        )
