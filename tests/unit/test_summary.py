"""The job summary the listing indexes carry (domain.summary.summarize): pure, no AWS."""

from __future__ import annotations

from domain.claims import with_step
from domain.summary import job_counts, listing_of, summarize
from state.models import (
    SHORT_ERROR_CHARS,
    ErrorCode,
    Job,
    LastFailure,
    StepStatus,
    SubStepStatus,
    utc_now,
)
from tests.factories import make_configured_job, make_job


def _failed(error: str = "The platform refused it") -> Job:
    """A job whose run failed at restaurantRegistration and settled: waiting for action."""
    job = make_configured_job(
        {"cloudwaitressAccount": SubStepStatus.COMPLETED, "restaurantRegistration": "failed"}  # type: ignore[dict-item]
    )
    steps = with_step(with_step(job.steps, 5, StepStatus.COMPLETED), 6, StepStatus.FAILED)
    failure = LastFailure(
        phase="phase2",
        sub_step="restaurantRegistration",
        error=error,
        error_code=ErrorCode.PLATFORM_REJECTED,
        platform_code="email_taken",
        at=utc_now(),
    )
    return job.model_copy(
        update={
            "status": StepStatus.ACTION_REQUIRED,
            "current_step": 6,
            "steps": steps,
            "last_failure": failure,
            "run_number": 1,
        }
    )


def test_a_new_job_needs_no_action_and_is_searchable_by_its_name() -> None:
    summary = summarize(make_job("Café AROHA"))
    assert summary.restaurant_name == "Café AROHA" and summary.name_lower == "café aroha"
    assert summary.step6_status == StepStatus.PENDING
    assert summary.failed_sub_step is None and summary.error_code is None
    assert not summary.needs_action and not summary.resumable


def test_a_failed_job_says_where_and_why_and_needs_action() -> None:
    summary = summarize(_failed("x" * 1_000))
    assert (summary.failed_phase, summary.failed_sub_step) == ("phase2", "restaurantRegistration")
    assert summary.error_code == ErrorCode.PLATFORM_REJECTED
    assert summary.platform_code == "email_taken" and summary.retryable is False
    assert summary.short_error is not None and len(summary.short_error) == SHORT_ERROR_CHARS
    assert summary.needs_action and summary.resumable and summary.resume_from == "phase1"


def test_a_job_a_run_holds_needs_no_action_yet() -> None:
    held = _failed().model_copy(update={"active_execution": "arn:run-2"})
    assert not summarize(held).needs_action


def test_counts_follow_tally_of_every_status_present() -> None:
    done = make_job().model_copy(
        update={
            "status": StepStatus.COMPLETED,
            "steps": with_step(make_job().steps, 6, StepStatus.COMPLETED_WITH_ERRORS),
        }
    )
    counts = job_counts([listing_of(make_job()), listing_of(_failed()), listing_of(done)])
    assert counts[StepStatus.ACTION_REQUIRED] == 2
    assert counts[StepStatus.COMPLETED_WITH_ERRORS] == 1
    assert counts[StepStatus.COMPLETED] == 0 and sum(counts.values()) == 3
