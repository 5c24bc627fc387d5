"""Timeouts and stale work: a phase Lambda that dies or times out in the middle of a sub-step.

A crash (`crash_before`/`crash_after`) kills the phase Lambda (Runtime.ExitError); every
sub-step is covered in the crash-point matrix. Here the Lambda *times out*: the local runtime
enforces a (test-lowered) function timeout and answers `Sandbox.Timedout`, as AWS does, while
the handler, which AWS would freeze and discard, runs on in the background: a late writer.
The platform call in flight is held by a gate until the test lets it go, so the late call
lands exactly where each test wants it: before the resume, or after it.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from domain.outcome import is_resumable
from domain.resume import resume_point
from local.lambdas import TIMED_OUT
from state.models import MAX_ERROR_CHARS, ErrorCode, StepStatus, SubStepStatus
from tests.integration.conftest import ORG, Harness
from tests.resilience.support import (
    SMALL_MENU_CONFIG,
    Gate,
    assert_as_if_uninterrupted,
    create_small_job,
    deliver_status_change,
    describe,
    ledger_report,
    stored_job_item,
    sub_steps,
)

pytestmark = pytest.mark.integration

TABLE = "JobsTable"
PHASE2 = "Phase2Function"
TIMEOUT_S = 0.5


def test_a_phase_lambda_timing_out_mid_sub_step_is_settled_and_resumed_without_duplicates(
    harness: Harness, gate: Callable[[str, str], Gate]
) -> None:
    runtime = harness.runtime
    # given Phase2's Lambda times out while restaurantRegistration waits on the platform,
    # and the status-change event is held back so that the moment before settling shows
    runtime.lambdas.timeouts[PHASE2] = TIMEOUT_S
    runtime.deliver_events = False
    job = create_small_job(harness.jobs, ORG, "Timeout Cafe")
    in_flight = gate("register_restaurant", job.job_id)
    arn = harness.submit(job, menu=SMALL_MENU_CONFIG)

    # when the execution ends
    assert runtime.wait_for(arn) == "FAILED"
    assert describe(arn)["error"] == TIMED_OUT

    # then, before the reconciler ran, the job still names the dead execution, the sub-step
    # is stale in_progress
    stale = harness.jobs.get_job(job.job_id)
    assert stale.active_execution == arn and stale.status == StepStatus.IN_PROGRESS
    assert sub_steps(stale)["restaurantRegistration"].status == SubStepStatus.IN_PROGRESS

    # when the status-change event reaches the reconciler
    assert deliver_status_change(runtime, arn)["settled"] is True

    # then the job waits at Step 6, the stale sub-step failed as interrupted by the timeout
    settled = harness.jobs.get_job(job.job_id)
    registration = sub_steps(settled)["restaurantRegistration"]
    assert settled.status == StepStatus.ACTION_REQUIRED and settled.active_execution is None
    assert settled.step(6).status == StepStatus.FAILED
    assert registration.status == SubStepStatus.FAILED
    assert registration.error_code == ErrorCode.TIMED_OUT and registration.retryable
    assert settled.last_failure is not None
    assert settled.last_failure.sub_step == "restaurantRegistration"
    assert (
        is_resumable(settled)
        and resume_point(settled.execution_config, settled.step6_progress) == "phase2"
    )
    # errors stay within their limit, however long the Lambda's error payload was
    assert all(len(s.error or "") <= MAX_ERROR_CHARS for s in sub_steps(settled).values())
    assert len(settled.last_failure.error) <= MAX_ERROR_CHARS

    # when the timed-out handler, still running, gets its answer and goes on
    before = stored_job_item(TABLE, job.job_id)
    in_flight.release()
    runtime.lambdas.wait_idle()

    # then its platform call took effect (under the key), but its checkpoint was refused: the
    # settled job did not change
    (late,) = [i for i in runtime.lambdas.late if i.payload.get("job_id") == job.job_id]
    assert late.function == PHASE2 and late.error_type == "SupersededExecutionError"
    assert stored_job_item(TABLE, job.job_id) == before
    assert ledger_report(harness.simulator, job.job_id).counts["restaurantRegistration"] == 1

    # when the job is resumed (events flow again)
    runtime.deliver_events = True
    runtime.lambdas.timeouts.clear()
    final, _ = harness.resume(job.job_id)

    # then the stale sub-step ran again under its idempotency key: the platform answered with
    # the effect the late call made, and nothing happened twice
    report = assert_as_if_uninterrupted(harness.simulator, final)
    assert report.calls["restaurantRegistration"] == 2  # the late call, and the resume's replay
    assert sub_steps(final)["restaurantRegistration"].attempts == 2


def test_a_late_call_landing_after_the_resume_changes_nothing(
    harness: Harness, gate: Callable[[str, str], Gate]
) -> None:
    runtime = harness.runtime
    # given Phase2 timed out while restaurantRegistration waits on the platform, and the job
    # was settled (events delivered)
    runtime.lambdas.timeouts[PHASE2] = TIMEOUT_S
    job = create_small_job(harness.jobs, ORG, "Overlap Cafe")
    in_flight = gate("register_restaurant", job.job_id)
    arn = harness.submit(job, menu=SMALL_MENU_CONFIG)
    assert runtime.wait_for(arn) == "FAILED"
    assert harness.jobs.get_job(job.job_id).status == StepStatus.ACTION_REQUIRED

    # when the job is resumed and completes while the late call is still held
    runtime.lambdas.timeouts.clear()
    final, second = harness.resume(job.job_id)
    assert final.status == StepStatus.COMPLETED
    completed = stored_job_item(TABLE, job.job_id)
    # and only then the late call reaches the platform and its handler goes on
    in_flight.release()
    runtime.lambdas.wait_idle()

    # then the platform answered it from the key (no second effect), its checkpoint was
    # refused, and the completed job did not change
    (late,) = [i for i in runtime.lambdas.late if i.payload.get("job_id") == job.job_id]
    assert late.error_type == "SupersededExecutionError"
    assert stored_job_item(TABLE, job.job_id) == completed
    final = harness.jobs.get_job(job.job_id)
    assert final.latest_execution == second and final.active_execution is None
    report = assert_as_if_uninterrupted(harness.simulator, final)
    assert report.calls["restaurantRegistration"] == 2
