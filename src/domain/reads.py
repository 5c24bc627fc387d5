"""Reading jobs and batches for the API, scoped to the caller's org.

Another org's batch or job raises `NotFoundError`, exactly as a missing one does. Reads
reconcile: a job whose `active_execution` is no longer RUNNING is settled on read
(`settlement.reconcile_stale`), so a lost status-change event never leaves a job stuck.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from clients.executions import ExecutionRunner
from domain.concurrency import each
from domain.outcome import batch_status, waits_for_resume
from domain.resume import current_phase, first_not_completed, last_completed, phase_statuses
from domain.settlement import reconcile_stale
from state.models import (
    AuditEvent,
    Batch,
    BatchStatus,
    Job,
    PhaseName,
    PhaseStatus,
    RunRecord,
    utc_now,
)
from state.repository import JobRepository

# A batch read reconciles only jobs whose run has not written anything for this long (a live
# run checkpoints every sub-step), and at most this many per read: bounded cost per request.
RECONCILE_STALE_AFTER = timedelta(seconds=30)
MAX_RECONCILE_PER_READ = 50


@dataclass(frozen=True)
class JobDetails:
    """A job with what a reader needs to know: where it stands and whether it can resume."""

    job: Job
    resumable: bool
    resume_from: PhaseName | None
    phase_statuses: dict[PhaseName, PhaseStatus]
    current_phase: PhaseName | None
    last_completed_phase: PhaseName | None


@dataclass(frozen=True)
class BatchDetails:
    batch: Batch
    status: BatchStatus
    jobs: list[JobDetails]


def details(job: Job) -> JobDetails:
    """`resume_from` is where a resume would start: set only when a resume is possible.

    The phase statuses are derived once per job (a batch read does this for every job).
    """
    statuses = phase_statuses(job.execution_config, job.step6_progress)
    point = first_not_completed(statuses)
    resumable = waits_for_resume(job) and point is not None
    return JobDetails(
        job,
        resumable,
        point if resumable else None,
        statuses,
        current_phase(job.step6_progress),
        last_completed(statuses),
    )


def read_job(
    jobs: JobRepository, executions: ExecutionRunner, org_id: str, job_id: str
) -> JobDetails:
    job = jobs.get_job_for_org(org_id, job_id)
    return details(reconcile_stale(jobs, executions, job))


def read_events(jobs: JobRepository, org_id: str, job_id: str) -> list[AuditEvent]:
    jobs.get_job_for_org(org_id, job_id)
    return jobs.list_events(job_id)


def read_runs(jobs: JobRepository, org_id: str, job_id: str) -> list[RunRecord]:
    jobs.get_job_for_org(org_id, job_id)
    return jobs.list_runs(job_id)


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
            for job in each(stale, lambda job: reconcile_stale(jobs, executions, job))
        }
        members = [settled.get(j.job_id, j) for j in members]
        if any(settled[j.job_id].active_execution is None for j in stale):
            batch = jobs.get_batch(org_id, batch_id)  # the counters moved with the jobs
    return BatchDetails(batch, batch_status(batch.job_counts), [details(j) for j in members])
