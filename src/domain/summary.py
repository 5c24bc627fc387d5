"""A job's standing, derived once: what a reader needs (`details`) and what the listing index
stores (`summarize`), and a batch's counts from its jobs' listings (`job_counts`).

`summarize` is the repository's `summarize` (handlers.wiring injects it): the repository writes
its result in the same UpdateItem as every change of the job's standing, so a listing is never
older than the job's last status, claim, settlement or operator action. Checkpoints during a
run do not rewrite it: a running job's listing says `in_progress`, which is all a list shows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from domain.outcome import first_failure, waits_for_resume
from domain.resume import current_phase, first_not_completed, last_completed, phase_statuses
from state.models import (
    RETRYABLE_CODES,
    SHORT_ERROR_CHARS,
    ErrorCode,
    Job,
    JobListing,
    JobSummaryFields,
    PhaseName,
    PhaseStatus,
    StepStatus,
    tally_of,
)


@dataclass(frozen=True)
class JobDetails:
    """A job with what a reader needs to know: where it stands and whether it can resume."""

    job: Job
    resumable: bool
    resume_from: PhaseName | None
    phase_statuses: dict[PhaseName, PhaseStatus]
    current_phase: PhaseName | None
    last_completed_phase: PhaseName | None


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


# The statuses in which a job with a failure waits for an operator.
_WAITING = frozenset({StepStatus.ACTION_REQUIRED, StepStatus.FAILED})


def short(message: str | None) -> str | None:
    if message is None or len(message) <= SHORT_ERROR_CHARS:
        return message
    return message[: SHORT_ERROR_CHARS - 1] + "…"


def summarize(job: Job) -> JobSummaryFields:
    """The job's summary: its name, Step 6's and each phase's status, where it failed and why
    (its `last_failure`, else the first failed sub-step of its progress), and whether it can
    resume. A job `needs_action` when no run holds it and it has a failure while it waits
    (action required, failed) or its Step 6 completed with errors."""
    seen = details(job)
    failure = job.last_failure
    step: int | None = None
    phase: PhaseName | None = None
    sub_step: str | None = None
    code: ErrorCode | None = None
    platform_code: str | None = None
    error: str | None = None
    if failure is not None:
        step, phase, sub_step = failure.step, failure.phase, failure.sub_step
        code = failure.error_code
        platform_code, error = failure.platform_code, failure.error
    else:
        failed = first_failure(job.step6_progress)
        if failed is not None:
            phase, sub_step, sub = failed
            code, platform_code, error = sub.error_code, sub.platform_code, sub.error
            code = code or ErrorCode.INTERNAL_ERROR
    step6 = job.step(6).status
    waiting = job.active_execution is None and (
        job.status in _WAITING
        or tally_of(job.status, job.steps) == StepStatus.COMPLETED_WITH_ERRORS
    )
    return JobSummaryFields(
        restaurant_name=job.restaurant.name,
        name_lower=job.restaurant.name.casefold(),
        step6_status=step6,
        current_phase=seen.current_phase,
        last_completed_phase=seen.last_completed_phase,
        phases=seen.phase_statuses,
        failed_step=step,
        failed_phase=phase,
        failed_sub_step=sub_step,
        error_code=code,
        platform_code=platform_code,
        short_error=short(error),
        retryable=None if code is None else code in RETRYABLE_CODES,
        resumable=seen.resumable,
        resume_from=seen.resume_from,
        needs_action=waiting and code is not None,
        updated_at=job.updated_at,
    )


def job_counts(listings: Iterable[JobListing]) -> dict[StepStatus, int]:
    """How many jobs count under each status (`tally_of`), every status present."""
    counted = Counter(tally_of(listing.status, listing.steps) for listing in listings)
    return {status: counted.get(status, 0) for status in StepStatus}


def listing_of(job: Job) -> JobListing:
    """The listing a job's own item gives (what the index will show once it catches up)."""
    return JobListing(
        job_id=job.job_id,
        batch_id=job.batch_id,
        org_id=job.org_id,
        status=job.status,
        current_step=job.current_step,
        steps=job.steps,
        last_failure=job.last_failure,
        active_execution=job.active_execution,
        created_at=job.created_at,
        summary=summarize(job),
    )
