"""Double clicks: simultaneous resumes of one job start exactly one run."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from domain import runs
from domain.runs import StartedRun
from handlers.wiring import api_deps
from state.errors import ConflictError
from state.repository import JobRepository
from tests.api.conftest import ORG, Api, Reply

pytestmark = pytest.mark.integration

CLICKS = 20


def _all_at_once(action: Callable[[], Any], count: int = CLICKS) -> list[Any]:
    barrier = threading.Barrier(count)
    outcomes: list[Any] = []
    lock = threading.Lock()

    def run() -> None:
        barrier.wait()
        try:
            outcome = action()
        except Exception as error:  # noqa: BLE001 - collected and asserted on
            outcome = error
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcomes) == count
    return outcomes


def _run_names(api: Api, job_id: str) -> list[str]:
    return sorted(e["name"] for e in api.executions(job_id))


def test_twenty_simultaneous_resume_requests_start_exactly_one_run(api: Api) -> None:
    # given a failed job, its next run slowed down so that it is still active meanwhile
    job = api.failed_job()
    api.fault("restaurantRegistration", "latency", latency_ms=300)
    path = f"/registration-batches/jobs/{job['job_id']}/resume-step-6"
    # when 20 requests arrive at the handler at once
    replies: list[Reply] = _all_at_once(lambda: api.client.post(path))
    # then exactly one started a run and every other got 409 naming that run
    assert Counter(r.status for r in replies) == {202: 1, 409: CLICKS - 1}, replies
    (won,) = [r for r in replies if r.status == 202]
    arn = won.body["execution_arn"]
    assert {r.body["active_execution"] for r in replies if r.status == 409} == {arn}
    assert _run_names(api, job["job_id"]) == [f"{job['job_id']}-run-1", f"{job['job_id']}-run-2"]
    api.runtime.wait_for(arn)
    assert api.client.job(job["job_id"])["status"] == "completed"
    assert all(e.count == 1 for e in api.simulator.ledger() if e.job_id == job["job_id"])


def test_the_conditional_claim_lets_one_of_twenty_racing_resumes_win(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a failed job, and 20 resumes that all read it (free, resumable) before any claims
    job = api.failed_job()
    api.fault("restaurantRegistration", "latency", latency_ms=300)
    read_all = threading.Barrier(CLICKS)
    original = JobRepository.get_job_for_org

    def read_then_wait(self: JobRepository, org_id: str, job_id: str) -> Any:
        found = original(self, org_id, job_id)
        read_all.wait()
        return found

    monkeypatch.setattr(JobRepository, "get_job_for_org", read_then_wait)
    # when they race to claim it: no lock in the application, only the conditional write
    # decides (each DynamoDB request is atomic, as on AWS: local.serial_dynamodb)
    deps = api_deps()
    outcomes = _all_at_once(lambda: runs.resume_one(deps.jobs, deps.executions, ORG, job["job_id"]))
    # then one run started, and every other lost the conditional write with a conflict
    started = [o for o in outcomes if isinstance(o, StartedRun)]
    conflicts = [o for o in outcomes if isinstance(o, ConflictError)]
    assert len(started) == 1 and len(conflicts) == CLICKS - 1, outcomes
    assert {c.active_execution for c in conflicts} == {started[0].execution_arn}
    assert _run_names(api, job["job_id"]) == [f"{job['job_id']}-run-1", f"{job['job_id']}-run-2"]
    api.runtime.wait_for(started[0].execution_arn)
    monkeypatch.undo()
    assert api.client.job(job["job_id"])["status"] == "completed"
