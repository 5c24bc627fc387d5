"""Whether a job's restaurant is complete enough for Steps 5 and 6."""

from __future__ import annotations

from domain.errors import StepsPendingError
from state.models import Job, Restaurant


def ready(job: Job) -> Restaurant:
    """The job's restaurant with everything Steps 5 and 6 need: Steps 1-4 done or provided
    (StepsPendingError while a job created from a website is still at one of them)."""
    if isinstance(job.restaurant, Restaurant):
        return job.restaurant
    raise StepsPendingError(
        f"job {job.job_id} is at Step {job.current_step} ({job.status.value}): Step 5 waits "
        "for Steps 1-4"
    )
