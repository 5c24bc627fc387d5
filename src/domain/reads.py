"""Reading one job for the API, scoped to the caller's org (batches and lists: domain.search).

Another org's batch or job raises `NotFoundError`, exactly as a missing one does. Reads
reconcile: a job whose `active_execution` is no longer RUNNING is settled on read
(`settlement.reconcile_stale`), so a lost status-change event never leaves a job stuck.
"""

from __future__ import annotations

from clients.executions import ExecutionRunner
from domain.pipeline_failures import settle_stale
from domain.search import RECONCILE_STALE_AFTER
from domain.settlement import reconcile_stale
from domain.summary import JobDetails, details
from state.models import AuditEvent, RunRecord
from state.repository import JobRepository

__all__ = ["JobDetails", "details", "read_events", "read_job", "read_runs"]


def read_job(
    jobs: JobRepository,
    executions: ExecutionRunner,
    org_id: str,
    job_id: str,
    *,
    pipelines: ExecutionRunner | None = None,
) -> JobDetails:
    """The job, its Step 6 run settled first if it ended unrecorded; with `pipelines`, so is
    a JobPipeline execution that ended without recording its step (§14)."""
    job = jobs.get_job_for_org(org_id, job_id)
    if pipelines is not None:
        job = settle_stale(jobs, pipelines, job, older_than=RECONCILE_STALE_AFTER)
    return details(reconcile_stale(jobs, executions, job))


def read_events(jobs: JobRepository, org_id: str, job_id: str) -> list[AuditEvent]:
    jobs.get_job_for_org(org_id, job_id)
    return jobs.list_events(job_id)


def read_runs(jobs: JobRepository, org_id: str, job_id: str) -> list[RunRecord]:
    jobs.get_job_for_org(org_id, job_id)
    return jobs.list_runs(job_id)
