"""Use cases behind the HTTP API: reading jobs and batches, and batch-wide Step 5 and resume.

Everything here is scoped to the caller's org: another org's batch or job raises
`NotFoundError`, exactly as a missing one does.

Batch-wide actions are **all-settled**: each job is accepted or rejected on its own, with its
own reason, and one job's rejection never stops the others. They read the batch's jobs with
one query (never one read per job) and work on the jobs concurrently, so 500 jobs stay well
within API Gateway's 29 s.

Reads reconcile: a job whose `active_execution` is no longer RUNNING is settled on read
(`step6.reconcile_stale`), so a lost status-change event never leaves a job stuck.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from clients.executions import ExecutionRunner
from clients.secrets import SecretStore
from domain.errors import InvalidRequestError, NotResumableError, StepAlreadyCompletedError
from domain.observability import logger
from domain.onboarding import ExecutionConfigInput, submit_step5
from domain.outcome import batch_status, is_resumable
from domain.resume import resume_point
from domain.step6 import StartedRun, reconcile_stale, resume_job
from state.errors import ConflictError
from state.models import AuditEvent, Batch, BatchStatus, Job, PhaseName, StepStatus, utc_now
from state.repository import JobRepository

# Most ids one batch-wide request may name (the API answers 422 beyond it).
MAX_JOBS_PER_REQUEST = 500
# Concurrency of batch-wide work: DynamoDB and Step Functions calls are I/O bound.
MAX_WORKERS = 16
# A batch read reconciles only jobs whose run has not written anything for this long (a live
# run checkpoints every sub-step), and at most this many per read: bounded cost per request.
RECONCILE_STALE_AFTER = timedelta(seconds=30)
MAX_RECONCILE_PER_READ = 50
# A lost conditional write with no run holding the job is retried this often.
CONFLICT_ATTEMPTS = 4
CONFLICT_PAUSE_S = 0.05


class RejectionCode:
    """Why one job of a batch-wide request was rejected (machine-readable)."""

    NOT_FOUND = "not_found"
    ALREADY_RUNNING = "already_running"
    NOT_RESUMABLE = "not_resumable"
    STEP5_COMPLETED = "step5_completed"
    INVALID_CONFIG = "invalid_config"
    CONFLICT = "conflict"
    START_FAILED = "start_failed"


@dataclass(frozen=True)
class JobRejection:
    job_id: str
    code: str
    reason: str
    active_execution: str | None = None


@dataclass(frozen=True)
class Settled:
    """The outcome of a batch-wide action, in the order the ids were given."""

    accepted: list[StartedRun]
    rejected: list[JobRejection]


@dataclass(frozen=True)
class JobDetails:
    """A job with what a reader needs to know about resuming it."""

    job: Job
    resumable: bool
    resume_from: PhaseName | None


@dataclass(frozen=True)
class BatchDetails:
    batch: Batch
    status: BatchStatus
    jobs: list[JobDetails]


def details(job: Job) -> JobDetails:
    """`resume_from` is where a resume would start: set only when a resume is possible."""
    resumable = is_resumable(job)
    return JobDetails(job, resumable, resume_point(job.step6_progress) if resumable else None)


# ---------------------------------------------------------------------- reads


def read_job(
    jobs: JobRepository, executions: ExecutionRunner, org_id: str, job_id: str
) -> JobDetails:
    job = jobs.get_job_for_org(org_id, job_id)
    return details(reconcile_stale(jobs, executions, job))


def read_events(jobs: JobRepository, org_id: str, job_id: str) -> list[AuditEvent]:
    jobs.get_job_for_org(org_id, job_id)
    return jobs.list_events(job_id)


def list_batches(jobs: JobRepository, org_id: str) -> list[tuple[Batch, BatchStatus]]:
    return [(b, batch_status(b.job_counts)) for b in jobs.list_batches(org_id)]


def read_batch(
    jobs: JobRepository, executions: ExecutionRunner, org_id: str, batch_id: str
) -> BatchDetails:
    """The batch and all its jobs: two reads, plus a bounded reconciliation of stale runs."""
    batch = jobs.get_batch(org_id, batch_id)
    members = jobs.list_jobs(batch_id)
    cutoff = utc_now() - RECONCILE_STALE_AFTER
    stale = sorted(
        (j for j in members if j.active_execution is not None and j.updated_at <= cutoff),
        key=lambda j: j.updated_at,
    )[:MAX_RECONCILE_PER_READ]
    if stale:
        settled = {
            job.job_id: job
            for job in _each(stale, lambda job: reconcile_stale(jobs, executions, job))
        }
        members = [settled.get(j.job_id, j) for j in members]
        if any(settled[j.job_id].active_execution is None for j in stale):
            batch = jobs.get_batch(org_id, batch_id)  # the counters moved with the jobs
    return BatchDetails(batch, batch_status(batch.job_counts), [details(j) for j in members])


# ---------------------------------------------------------------------- single-job actions


def resume_one(
    jobs: JobRepository, executions: ExecutionRunner, org_id: str, job_id: str
) -> StartedRun:
    """Resume one job in the background; ConflictError if running, NotResumableError if done."""
    return resume_job(jobs, executions, jobs.get_job_for_org(org_id, job_id))


# ---------------------------------------------------------------------- batch-wide actions


def resume_selected(
    jobs: JobRepository,
    executions: ExecutionRunner,
    org_id: str,
    batch_id: str,
    job_ids: Sequence[str],
) -> Settled:
    """Resume the named jobs of a batch, all-settled; duplicate ids count once."""
    batch = jobs.get_batch(org_id, batch_id)
    members = {j.job_id: j for j in jobs.list_jobs(batch.batch_id)}
    wanted = list(dict.fromkeys(job_ids))

    def one(job_id: str) -> StartedRun | JobRejection:
        job = members.get(job_id)
        if job is None:
            return JobRejection(job_id, RejectionCode.NOT_FOUND, f"job {job_id} is not in batch")
        return _attempt(jobs, job, lambda current: resume_job(jobs, executions, current))

    return _split(_each(wanted, one))


def submit_step5_selected(
    jobs: JobRepository,
    secrets: SecretStore,
    executions: ExecutionRunner,
    org_id: str,
    batch_id: str,
    configs: Sequence[tuple[str, ExecutionConfigInput]],
) -> Settled:
    """Complete Step 5 and start Step 6 for each named job, all-settled.

    A job whose Step 5 is already completed is rejected: no new execution, no config change.
    """
    batch = jobs.get_batch(org_id, batch_id)
    members = {j.job_id: j for j in jobs.list_jobs(batch.batch_id)}

    def one(entry: tuple[str, ExecutionConfigInput]) -> StartedRun | JobRejection:
        job_id, config = entry
        job = members.get(job_id)
        if job is None:
            return JobRejection(job_id, RejectionCode.NOT_FOUND, f"job {job_id} is not in batch")
        return _attempt(
            jobs, job, lambda current: submit_step5(jobs, secrets, executions, current, config)
        )

    return _split(_each(list(configs), one))


def _attempt(
    jobs: JobRepository, job: Job, action: Callable[[Job], StartedRun]
) -> StartedRun | JobRejection:
    """Run `action` on one job, turning a domain refusal into that job's rejection.

    A conditional write can lose while no run holds the job: the batch's index lagged behind
    the job, or (on DynamoDB) a concurrent transaction touched the batch's counters at the
    same moment. Then the action is tried again, on a consistent read, after a short jittered
    pause; a job that a run holds is rejected at once.
    """
    for attempt in range(1, CONFLICT_ATTEMPTS + 1):
        try:
            return action(job)
        except ConflictError as error:
            if error.active_execution is not None:
                return JobRejection(
                    job.job_id, RejectionCode.ALREADY_RUNNING, str(error), error.active_execution
                )
            if attempt == CONFLICT_ATTEMPTS:
                return JobRejection(job.job_id, RejectionCode.CONFLICT, f"{error}; try again", None)
            time.sleep(random.uniform(0, CONFLICT_PAUSE_S * attempt))
            job = jobs.get_job(job.job_id)
        except StepAlreadyCompletedError as error:
            return JobRejection(job.job_id, RejectionCode.STEP5_COMPLETED, str(error))
        except NotResumableError as error:
            reason = (
                str(error)
                if job.step(5).status == StepStatus.COMPLETED
                else f"Step 5 of job {job.job_id} is not completed: submit its configuration first"
            )
            return JobRejection(job.job_id, RejectionCode.NOT_RESUMABLE, reason)
        except InvalidRequestError as error:
            return JobRejection(job.job_id, RejectionCode.INVALID_CONFIG, str(error))
        except Exception as error:  # noqa: BLE001 - all-settled: one job's failure is its own
            logger.exception("batch action failed for a job", job_id=job.job_id)
            return JobRejection(
                job.job_id, RejectionCode.START_FAILED, f"could not start: {type(error).__name__}"
            )
    raise AssertionError("unreachable")  # pragma: no cover


T = TypeVar("T")
R = TypeVar("R")


def _each(items: Sequence[T], fn: Callable[[T], R]) -> list[R]:
    """`fn` over `items` concurrently (bounded), results in input order."""
    if len(items) <= 1:
        return [fn(item) for item in items]
    keys = logger.thread_safe_get_current_keys()

    def run(item: T) -> R:
        logger.thread_safe_clear_keys()
        logger.thread_safe_append_keys(**keys)
        return fn(item)

    with ThreadPoolExecutor(max_workers=min(MAX_WORKERS, len(items))) as pool:
        return list(pool.map(run, items))


def _split(outcomes: list[StartedRun | JobRejection]) -> Settled:
    return Settled(
        accepted=[o for o in outcomes if isinstance(o, StartedRun)],
        rejected=[o for o in outcomes if isinstance(o, JobRejection)],
    )
