"""Batch-wide actions: Step 5 and resume for selected jobs of a batch, all-settled.

Each job is accepted or rejected on its own, with its own code and reason, and one job's
rejection never stops the others. The batch's jobs are read with one query (never one read per
job) and worked on concurrently. Scoped to the caller's org: another org's batch raises
`NotFoundError`, exactly as a missing one does.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from clients.executions import ExecutionRunner
from clients.secrets import SecretStore
from domain.concurrency import each
from domain.errors import (
    InvalidRequestError,
    NotResumableError,
    StepAlreadyCompletedError,
    StepsPendingError,
)
from domain.observability import logger
from domain.onboarding import ExecutionConfigInput, submit_step5
from domain.runs import StartedRun, resume_job
from state.errors import ConflictError
from state.models import SYSTEM_ACTOR, Job, StepStatus
from state.repository import JobRepository

# Most jobs one batch-wide call works on inside its API request (the API answers 422 beyond it,
# naming POST /operations). The last measurement: 500 jobs took 49.8 s locally, ~42 s estimated
# on AWS at the API function's 512 MB, about 12 jobs/s: 100 jobs answer within ~8.5 s, under
# the 10 s budget and well under API Gateway's 29 s. The bench reads it (`batch_call_cap`).
MAX_JOBS_PER_REQUEST = 100
batch_call_cap = MAX_JOBS_PER_REQUEST
# Most restaurants one batch creation may carry (one write per job, no fan-out of runs).
MAX_RESTAURANTS_PER_BATCH = 500
# Most ids a batch-wide body may carry at all (beyond the cap it is refused with a pointer).
MAX_IDS_PER_BODY = 1_000
# A lost conditional write with no run holding the job is retried this often.
CONFLICT_ATTEMPTS = 4
CONFLICT_PAUSE_S = 0.05


class RejectionCode:
    """Why one job of a batch-wide request was rejected (machine-readable)."""

    # and ConflictError.code: `already_running` (a run holds the job) or `conflict`
    NOT_FOUND = "not_found"
    NOT_RESUMABLE = "not_resumable"
    STEP5_COMPLETED = "step5_completed"
    INVALID_CONFIG = "invalid_config"
    START_FAILED = "start_failed"
    STEPS_PENDING = "steps_pending"


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


def _over_cap(count: int, field: str) -> InvalidRequestError:
    return InvalidRequestError(
        f"{field}: {count} jobs; a batch-wide call works on at most {MAX_JOBS_PER_REQUEST} "
        "jobs per request: use POST /operations (a background operation) for more",
        field=field,
    )


def _members(jobs: JobRepository, batch_id: str, job_ids: Sequence[str]) -> dict[str, Job]:
    """The named jobs that belong to the batch, read whole and consistently (one BatchGetItem
    per 50 jobs, never the whole batch)."""
    return {j.job_id: j for j in jobs.get_jobs(list(job_ids)) if j.batch_id == batch_id}


def resume_selected(
    jobs: JobRepository,
    executions: ExecutionRunner,
    org_id: str,
    batch_id: str,
    job_ids: Sequence[str] | None,
    *,
    actor: str = SYSTEM_ACTOR,
) -> Settled:
    """Resume the named jobs of a batch (every job of it when `job_ids` is None), all-settled;
    duplicate ids count once. More than MAX_JOBS_PER_REQUEST jobs: InvalidRequestError."""
    batch = jobs.get_batch(org_id, batch_id)
    if job_ids is None:
        wanted = [x.job_id for x in jobs.list_listings(batch.batch_id)]
        if len(wanted) > MAX_JOBS_PER_REQUEST:
            raise _over_cap(len(wanted), "job_ids")
    else:
        wanted = list(dict.fromkeys(job_ids))
        if len(wanted) > MAX_JOBS_PER_REQUEST:
            raise _over_cap(len(wanted), "job_ids")
    members = _members(jobs, batch.batch_id, wanted)

    def one(job_id: str) -> StartedRun | JobRejection:
        job = members.get(job_id)
        if job is None:
            return JobRejection(job_id, RejectionCode.NOT_FOUND, f"job {job_id} is not in batch")
        return _attempt(
            jobs, job, lambda current: resume_job(jobs, executions, current, actor=actor)
        )

    return _split(each(wanted, one))


def submit_step5_selected(
    jobs: JobRepository,
    secrets: SecretStore,
    executions: ExecutionRunner,
    org_id: str,
    batch_id: str,
    configs: Sequence[tuple[str, ExecutionConfigInput]],
    *,
    actor: str = SYSTEM_ACTOR,
) -> Settled:
    """Complete Step 5 and start Step 6 for each named job, all-settled.

    A job whose Step 5 is already completed is rejected: no new execution, no config change.
    """
    if len(configs) > MAX_JOBS_PER_REQUEST:
        raise _over_cap(len(configs), "jobs")
    batch = jobs.get_batch(org_id, batch_id)
    members = _members(jobs, batch.batch_id, [job_id for job_id, _ in configs])

    def one(entry: tuple[str, ExecutionConfigInput]) -> StartedRun | JobRejection:
        job_id, config = entry
        job = members.get(job_id)
        if job is None:
            return JobRejection(job_id, RejectionCode.NOT_FOUND, f"job {job_id} is not in batch")
        return _attempt(
            jobs,
            job,
            lambda current: submit_step5(jobs, secrets, executions, current, config, actor=actor),
        )

    return _split(each(list(configs), one))


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
            # a run holds the job: rejected at once (error.code says `already_running`)
            if error.active_execution is not None:
                return JobRejection(job.job_id, error.code, str(error), error.active_execution)
            if attempt == CONFLICT_ATTEMPTS:
                return JobRejection(job.job_id, error.code, f"{error}; try again", None)
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
        except StepsPendingError as error:
            return JobRejection(job.job_id, RejectionCode.STEPS_PENDING, str(error))
        except Exception as error:  # noqa: BLE001 - all-settled: one job's failure is its own
            logger.exception("batch action failed for a job", job_id=job.job_id)
            return JobRejection(
                job.job_id, RejectionCode.START_FAILED, f"could not start: {type(error).__name__}"
            )
    raise AssertionError("unreachable")  # pragma: no cover


def _split(outcomes: list[StartedRun | JobRejection]) -> Settled:
    return Settled(
        accepted=[o for o in outcomes if isinstance(o, StartedRun)],
        rejected=[o for o in outcomes if isinstance(o, JobRejection)],
    )
