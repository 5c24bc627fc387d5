"""Repeated failure, and the size limits that keep a job item small whatever happens.

- A sub-step that fails on every resume keeps a bounded history: its attempt count and last
  error in the progress, and the newest `EVENTS_KEPT` events of each repeating kind in the
  audit trail (domain.audit.record_event).
- The job item does not grow with failed resumes (measured as stored, 50 resumes).
- Outputs over MAX_OUTPUT_BYTES fail their sub-step with a clear error; errors longer than
  MAX_ERROR_CHARS are stored cut, and marked (state.models).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterator

import pytest

from domain.audit import BOUNDED_EVENTS, EVENTS_KEPT
from domain.catalogue import CATALOGUE
from domain.runs import resume_job
from handlers.wiring import api_deps
from local.workers import ProcessLambdas
from state.models import (
    MAX_ERROR_CHARS,
    MAX_OUTPUT_BYTES,
    TRUNCATION_MARK,
    ErrorCode,
    StepStatus,
    SubStepStatus,
)
from tests.integration.conftest import Harness
from tests.resilience import doubles
from tests.resilience.support import (
    ledger_report,
    outputs,
    reference_outputs,
    stored_job_item,
    stored_size,
    sub_steps,
)

pytestmark = pytest.mark.integration

TABLE = "JobsTable"
RESUMES = 50
ITEM_BUDGET_BYTES = 100_000


def test_a_sub_step_failing_on_every_resume_keeps_a_bounded_history(harness: Harness) -> None:
    # given itemTags (phase 4: the item holds every other output) fails on every call
    (job,) = harness.create_batch(["Stubborn Cafe"])
    harness.fault("itemTags", "fail", times=1 + RESUMES, job_id=job.job_id)
    assert harness.runtime.wait_for(harness.submit(job)) == "FAILED"
    size_after_first = stored_size(stored_job_item(TABLE, job.job_id))

    # when it is resumed 50 times, failing each time
    deps = api_deps()
    arns = []
    for _ in range(RESUMES):
        started = resume_job(deps.jobs, deps.executions, deps.jobs.get_job(job.job_id))
        assert started.resume_from == "phase4"
        assert harness.runtime.wait_for(started.execution_arn) == "FAILED"
        arns.append(started.execution_arn)

    # then the job item did not grow: still far under the budget
    size = stored_size(stored_job_item(TABLE, job.job_id))
    assert size < ITEM_BUDGET_BYTES
    assert size - size_after_first < 100, (size_after_first, size)
    # the progress keeps the attempt count and the last error; last_failure the last run
    failed = harness.jobs.get_job(job.job_id)
    tags = sub_steps(failed)["itemTags"]
    assert tags.status == SubStepStatus.FAILED and tags.attempts == 1 + RESUMES
    assert tags.error == (
        "The platform refused it: simulated fail of itemTags (add_item_tags, HTTP 422)."
    )
    assert tags.error_code == ErrorCode.PLATFORM_REJECTED
    assert failed.last_failure is not None and failed.last_failure.execution == arns[-1]
    assert failed.run_number == 1 + RESUMES
    # the audit trail holds the newest EVENTS_KEPT of each repeating kind, one-offs intact
    events = harness.jobs.list_events(job.job_id)
    counts = Counter(e.type for e in events)
    assert counts["sub_step_failed"] == counts["run_failed"] == EVENTS_KEPT
    assert counts["resume_requested"] == EVENTS_KEPT
    assert counts["job_created"] == counts["step5_submitted"] == 1
    assert set(counts) <= BOUNDED_EVENTS | {"job_created", "step5_submitted"}
    assert [e.detail["execution"] for e in events if e.type == "run_failed"] == arns[-EVENTS_KEPT:]
    assert [e.detail["attempts"] for e in events if e.type == "sub_step_failed"] == list(
        range(2 + RESUMES - EVENTS_KEPT, 2 + RESUMES)
    )
    assert [e.at for e in events] == sorted(e.at for e in events)
    # and the platform never took the effect: a failed call has none
    assert "itemTags" not in ledger_report(harness.simulator, job.job_id).counts

    # when the platform recovers, one more resume completes the job
    harness.simulator.clear_faults()
    final, _ = harness.resume(job.job_id)
    assert final.status == StepStatus.COMPLETED
    assert sub_steps(final)["itemTags"].attempts == 2 + RESUMES
    report = ledger_report(harness.simulator, job.job_id)
    assert report.counts == {s.name: 1 for s in CATALOGUE} and report.duplicates == 0
    assert report.calls["itemTags"] == 2 + RESUMES
    assert stored_size(stored_job_item(TABLE, job.job_id)) < ITEM_BUDGET_BYTES


@pytest.fixture
def double(harness: Harness) -> Iterator[Callable[[str], Callable[[], None]]]:
    """`double(name)` runs a phase's function with a handler of tests.resilience.doubles."""
    undo: list[Callable[[], None]] = []

    def use(name: str) -> Callable[[], None]:
        lambdas = harness.runtime.lambdas
        assert isinstance(lambdas, ProcessLambdas)
        undo.append(lambdas.override(doubles.FUNCTIONS[name], f"tests.resilience.doubles.{name}"))
        return undo[-1]

    yield use
    for step in reversed(undo):
        step()


def test_an_oversized_output_fails_its_sub_step_clearly_and_a_resume_heals_it(
    harness: Harness, double: Callable[[str], Callable[[], None]]
) -> None:
    # given servicesConfig returns an output over the limit
    restore = double("oversized_services_config")
    job, _ = harness.run_job("Oversized Cafe")

    # then the sub-step failed with an error that names the limit; the job completed with errors
    services = sub_steps(job)["servicesConfig"]
    assert job.status == StepStatus.COMPLETED and services.status == SubStepStatus.FAILED
    assert services.output is None
    assert (services.error or "").startswith("servicesConfig output is")
    assert services.error_code == ErrorCode.OUTPUT_TOO_LARGE
    assert f"the limit is {MAX_OUTPUT_BYTES}" in (services.error or "")
    assert stored_size(stored_job_item(TABLE, job.job_id)) < ITEM_BUDGET_BYTES

    # when the sub-step is fixed and the job resumed, it heals under the same key
    restore()
    final, _ = harness.resume(job.job_id)
    assert final.status == StepStatus.COMPLETED
    assert set(s.status for s in sub_steps(final).values()) == {SubStepStatus.COMPLETED}
    report = ledger_report(harness.simulator, job.job_id)
    # the oversized run had taken the effect: the resume replayed it, it did not repeat it
    assert report.counts["servicesConfig"] == 1 and report.duplicates == 0
    assert outputs(final)["servicesConfig"] == reference_outputs(final)["servicesConfig"]


def test_a_huge_error_is_stored_cut_everywhere_it_is_kept(
    harness: Harness, double: Callable[[str], Callable[[], None]]
) -> None:
    # given restaurantRegistration (blocking) fails with a 50,000-character message
    double("verbose_registration_rejection")
    job, _ = harness.run_job("Verbose Cafe")

    # then the progress, last_failure and the audit trail hold it cut to the limit, marked
    error = sub_steps(job)["restaurantRegistration"].error or ""
    assert len(error) == MAX_ERROR_CHARS and error.endswith(TRUNCATION_MARK)
    assert job.last_failure is not None and len(job.last_failure.error) <= MAX_ERROR_CHARS
    (event,) = [e for e in harness.jobs.list_events(job.job_id) if e.type == "sub_step_failed"]
    assert len(event.detail["error"]) <= MAX_ERROR_CHARS
    assert stored_size(stored_job_item(TABLE, job.job_id)) < ITEM_BUDGET_BYTES


def test_trim_events_keeps_the_newest_of_one_kind_and_nothing_else(harness: Harness) -> None:
    jobs = harness.jobs
    job_id = f"trim-{uuid.uuid4().hex}"
    for n in range(15):
        jobs.append_event(job_id, "sub_step_failed", {"n": n})
        if n % 5 == 0:
            jobs.append_event(job_id, "note", {"n": n})

    assert jobs.trim_events(job_id, "sub_step_failed", 10) == 5
    events = jobs.list_events(job_id)
    assert [e.detail["n"] for e in events if e.type == "sub_step_failed"] == list(range(5, 15))
    assert [e.detail["n"] for e in events if e.type == "note"] == [0, 5, 10]
    assert jobs.trim_events(job_id, "sub_step_failed", 10) == 0
