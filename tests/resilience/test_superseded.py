"""Superseded execution: an old execution redriven after a newer run has claimed the job.

Only the most recent execution may be redriven (docs/architecture.md §5). An older one, redriven
from
the console after an API resume started a newer run, must fail fast at its phase task
(SupersededExecutionError from the phase handler) and leave the job exactly as it was.
"""

from __future__ import annotations

from collections.abc import Callable

import boto3
import pytest

from domain.runs import resume_job
from handlers.wiring import api_deps
from state.models import StepStatus, SubStepStatus
from tests.integration.conftest import ORG, Harness
from tests.resilience.support import (
    SMALL_MENU_CONFIG,
    Gate,
    assert_as_if_uninterrupted,
    create_small_job,
    ledger_report,
    stored_job_item,
    sub_steps,
)

pytestmark = pytest.mark.integration

TABLE = "JobsTable"


def _failed_then_resumed(harness: Harness, name: str) -> tuple[str, str]:
    """A job whose run 1 failed at restaurantRegistration; returns (job id, run 1's ARN)."""
    job = create_small_job(harness.jobs, ORG, name)
    harness.fault("restaurantRegistration", "fail", job_id=job.job_id)
    first = harness.submit(job, menu=SMALL_MENU_CONFIG)
    assert harness.runtime.wait_for(first) == "FAILED"
    return job.job_id, first


def _redrive_error(harness: Harness, arn: str) -> str | None:
    delivered = [d for d in harness.runtime.delivered if d.execution_arn == arn]
    error: str | None = delivered[-1].event["detail"]["error"]
    return error


def test_a_redrive_after_a_newer_run_completed_fails_and_changes_nothing(
    harness: Harness,
) -> None:
    # given run 1 failed and an API resume completed the job in run 2
    job_id, first = _failed_then_resumed(harness, "Superseded Cafe")
    done, second = harness.resume(job_id)
    assert done.status == StepStatus.COMPLETED and done.latest_execution == second
    item = stored_job_item(TABLE, job_id)
    events = harness.jobs.list_events(job_id)
    effects = ledger_report(harness.simulator, job_id)

    # when run 1 is redriven from the console
    status = harness.runtime.redrive(first)

    # then it fails fast at its phase task, superseded
    assert status == "FAILED"
    assert _redrive_error(harness, first) == "SupersededExecutionError"
    # and the job, its audit trail and the platform are exactly as they were
    assert stored_job_item(TABLE, job_id) == item
    assert harness.jobs.list_events(job_id) == events
    assert ledger_report(harness.simulator, job_id) == effects


def test_a_redrive_while_a_newer_run_is_running_does_not_touch_its_progress(
    harness: Harness, gate: Callable[[str, str], Gate]
) -> None:
    # given run 1 failed, and run 2 (an API resume) is running, its platform call in flight
    job_id, first = _failed_then_resumed(harness, "Overtaken Cafe")
    in_flight = gate("register_restaurant", job_id)
    deps = api_deps()
    second = resume_job(deps.jobs, deps.executions, deps.jobs.get_job(job_id)).execution_arn
    in_flight.wait_entered()
    assert sub_steps(harness.jobs.get_job(job_id))["restaurantRegistration"].status == (
        SubStepStatus.IN_PROGRESS
    )
    item = stored_job_item(TABLE, job_id)

    # when run 1 is redriven meanwhile
    status = harness.runtime.redrive(first)

    # then the redrive fails fast, superseded, and run 2's job item is untouched
    assert status == "FAILED"
    assert _redrive_error(harness, first) == "SupersededExecutionError"
    assert stored_job_item(TABLE, job_id) == item
    assert boto3.client("stepfunctions").describe_execution(executionArn=second)["status"] == (
        "RUNNING"
    )

    # and run 2 completes the job as if nothing had happened
    in_flight.release()
    assert harness.runtime.wait_for(second) == "SUCCEEDED"
    final = harness.jobs.get_job(job_id)
    assert final.status == StepStatus.COMPLETED and final.run_number == 2
    events = harness.jobs.list_events(job_id)
    assert not [e for e in events if e.type == "run_redriven"]
    assert [e.detail["execution"] for e in events if e.type == "run_failed"] == [first]
    assert_as_if_uninterrupted(harness.simulator, final)
