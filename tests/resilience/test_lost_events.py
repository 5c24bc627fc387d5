"""Lost events: the status-change event of a failed execution never reaches the reconciler.

The job then still names the finished execution as active. docs/architecture.md §5: reads reconcile,
so reading the job (or its batch) settles it, and a resume is possible.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain import search
from domain.catalogue import CATALOGUE
from domain.reads import read_job
from domain.runs import resume_job
from domain.search import read_batch
from handlers.wiring import api_deps
from state.models import StepStatus, SubStepStatus
from tests.integration.conftest import ORG, Harness
from tests.resilience.support import (
    SMALL_MENU_CONFIG,
    assert_as_if_uninterrupted,
    create_small_job,
    ledger_report,
    outputs,
    reference_outputs,
    sub_steps,
)

pytestmark = pytest.mark.integration


def _failed_without_event(harness: Harness, name: str, sub_step: str, mode: str) -> tuple[str, str]:
    harness.runtime.deliver_events = False
    job = create_small_job(harness.jobs, ORG, name)
    harness.fault(sub_step, mode, job_id=job.job_id)
    arn = harness.submit(job, menu=SMALL_MENU_CONFIG)
    assert harness.runtime.wait_for(arn) == "FAILED"
    stuck = harness.jobs.get_job(job.job_id)
    # the job still names the failed execution: nothing settled it
    assert stuck.status == StepStatus.IN_PROGRESS and stuck.active_execution == arn
    assert stuck.step(6).status == StepStatus.IN_PROGRESS
    return job.job_id, arn


def test_reading_the_job_settles_it_and_a_resume_completes_it(harness: Harness) -> None:
    # given a blocking failure whose status-change event is lost
    job_id, arn = _failed_without_event(
        harness, "Lost Event Cafe", "restaurantRegistration", "fail"
    )
    deps = api_deps()

    # when the job is read through the API's read path
    details = read_job(deps.jobs, deps.executions, ORG, job_id)

    # then the read settled it: the job waits at Step 6, resumable from the failed phase
    assert details.job.status == StepStatus.ACTION_REQUIRED and details.job.active_execution is None
    assert details.resumable and details.resume_from == "phase2"
    assert details.job.last_failure is not None
    assert details.job.last_failure.sub_step == "restaurantRegistration"
    assert details.job.last_failure.execution == arn
    stored = harness.jobs.get_job(job_id)
    assert stored.status == StepStatus.ACTION_REQUIRED and stored.active_execution is None
    assert [e.type for e in harness.jobs.list_events(job_id)].count("run_failed") == 1

    # when it is resumed, events still lost (a success is settled by CompleteRun itself)
    final, _ = harness.resume(job_id)

    # then the job completes, each effect once
    assert final.status == StepStatus.COMPLETED and final.active_execution is None
    assert outputs(final) == reference_outputs(final)
    report = ledger_report(harness.simulator, job_id)
    assert report.counts == {s.name: 1 for s in CATALOGUE} and report.duplicates == 0


def test_a_crash_whose_event_is_lost_is_settled_by_the_resume_itself(harness: Harness) -> None:
    # given the phase Lambda died after its platform call, and the event is lost
    job_id, _ = _failed_without_event(harness, "Lost Crash Cafe", "menuImport", "crash_after")
    stuck = harness.jobs.get_job(job_id)
    assert sub_steps(stuck)["menuImport"].status == SubStepStatus.IN_PROGRESS

    # when a resume is asked for straight away (no read first): it reconciles, then starts
    deps = api_deps()
    harness.runtime.deliver_events = True  # only that one event was lost
    started = resume_job(deps.jobs, deps.executions, stuck)
    assert started.resume_from == "phase2"
    assert harness.runtime.wait_for(started.execution_arn) == "SUCCEEDED"

    # then the stale sub-step was settled as interrupted, re-run under its key, and the job
    # completed with every effect once
    final = harness.jobs.get_job(job_id)
    types = [e.type for e in harness.jobs.list_events(job_id)]
    assert (
        types.index("run_failed") < types.index("resume_requested") < types.index("run_succeeded")
    )
    report = assert_as_if_uninterrupted(harness.simulator, final)
    assert report.calls["menuImport"] == 2


def test_reading_the_batch_settles_its_stale_jobs(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a job whose event was lost, and a batch read that treats any run as stale
    job_id, _ = _failed_without_event(harness, "Lost Batch Cafe", "cloudwaitressAccount", "fail")
    monkeypatch.setattr(search, "RECONCILE_STALE_AFTER", timedelta(0))
    batch_id = harness.jobs.get_job(job_id).batch_id
    deps = api_deps()

    # when the batch is read
    read = read_batch(deps.jobs, deps.executions, ORG, batch_id)

    # then the job was settled, and the batch's counts (from its jobs) moved with it
    (listing,) = read.jobs.jobs
    assert listing.status == StepStatus.ACTION_REQUIRED and listing.summary.resumable
    assert read.overview.batch.job_counts[StepStatus.ACTION_REQUIRED] == 1
    assert read.overview.batch.job_counts[StepStatus.IN_PROGRESS] == 0
