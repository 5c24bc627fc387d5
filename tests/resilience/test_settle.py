"""Settling: a write that loses while the execution still owns the job is not "settled elsewhere".

DynamoDB cancels a transaction that meets another one on the same item (TransactionConflict):
two jobs of one batch settling at the same moment both move the batch's counters. The losing
settle must try again, never conclude that someone else settled its job. moto does not produce
that cancellation, so the repository here loses the first writes on purpose.
"""

from __future__ import annotations

from typing import Any

import pytest

from domain import settlement
from domain.outcome import ExecutionStatus
from domain.reads import read_job
from domain.settlement import SETTLE_ATTEMPTS, settle_execution
from handlers.wiring import api_deps
from state.errors import ConflictError
from state.models import StepStatus
from state.repository import JobRepository
from tests.integration.conftest import ORG, Harness
from tests.resilience.support import SMALL_MENU_CONFIG, create_small_job

pytestmark = pytest.mark.integration


class _LosesWrites:
    """The real repository, except that its next `losses` job updates lose, writing nothing."""

    def __init__(self, inner: JobRepository, losses: int) -> None:
        self._inner = inner
        self.losses = losses

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def settle_run(self, *args: Any, **kwargs: Any) -> None:
        if self.losses > 0:
            self.losses -= 1
            raise ConflictError("Transaction cancelled [TransactionConflict, None]")
        self._inner.settle_run(*args, **kwargs)


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settlement, "SETTLE_RETRY_BASE_S", 0.0)


def _failed_unsettled(harness: Harness, name: str) -> tuple[str, str]:
    harness.runtime.deliver_events = False
    job = create_small_job(harness.jobs, ORG, name)
    harness.fault("cloudwaitressAccount", "fail", job_id=job.job_id)
    arn = harness.submit(job, menu=SMALL_MENU_CONFIG)
    assert harness.runtime.wait_for(arn) == "FAILED"
    assert harness.jobs.get_job(job.job_id).active_execution == arn
    return job.job_id, arn


def test_a_settle_that_loses_its_write_while_still_owner_tries_again(harness: Harness) -> None:
    # given a failed execution whose settle loses its first two writes to other transactions
    job_id, arn = _failed_unsettled(harness, "Contended Cafe")
    contended = _LosesWrites(harness.jobs, losses=2)

    # when the status-change event is settled
    settled = settle_execution(contended, job_id, arn, ExecutionStatus.FAILED, "boom")  # type: ignore[arg-type]

    # then it settled on the third try, once
    assert contended.losses == 0
    stored = harness.jobs.get_job(job_id)
    assert settled.status == stored.status == StepStatus.ACTION_REQUIRED
    assert stored.active_execution is None
    assert settled.step6_progress == stored.step6_progress
    assert [e.type for e in harness.jobs.list_events(job_id)].count("run_failed") == 1


def test_a_settle_that_keeps_losing_raises_and_a_later_read_settles(harness: Harness) -> None:
    # given a settle whose every write loses
    job_id, arn = _failed_unsettled(harness, "Hopeless Cafe")
    contended = _LosesWrites(harness.jobs, losses=SETTLE_ATTEMPTS)

    # when it is settled, it gives up loudly (the reconciler's Lambda fails: EventBridge retries)
    with pytest.raises(ConflictError):
        settle_execution(contended, job_id, arn, ExecutionStatus.FAILED, "boom")  # type: ignore[arg-type]

    # then the job is not left believing it was settled: it still names its execution, and a
    # later read settles it
    assert harness.jobs.get_job(job_id).active_execution == arn
    deps = api_deps()
    details = read_job(deps.jobs, deps.executions, ORG, job_id)
    assert details.job.status == StepStatus.ACTION_REQUIRED and details.resumable


def test_a_settle_of_an_execution_settled_elsewhere_changes_nothing(harness: Harness) -> None:
    # given the job was settled by the reconciler while another settle's write was in flight
    job_id, arn = _failed_unsettled(harness, "Settled Twice Cafe")
    settle_execution(harness.jobs, job_id, arn, ExecutionStatus.FAILED, "first")
    before = harness.jobs.get_job(job_id)
    late = _LosesWrites(harness.jobs, losses=0)

    # when the second settle runs
    again = settle_execution(late, job_id, arn, ExecutionStatus.FAILED, "second")  # type: ignore[arg-type]

    # then it sees the job no longer names the execution and leaves it alone
    assert again == before == harness.jobs.get_job(job_id)
    assert [e.type for e in harness.jobs.list_events(job_id)].count("run_failed") == 1
