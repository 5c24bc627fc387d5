"""The concurrency bound: an operation never has more than max_concurrency runs at once."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.operations.conftest import Api, wait_operation


def highest_overlap(intervals: list[tuple[datetime, datetime]]) -> int:
    """The most intervals open at one moment (an end before a start at the same instant)."""
    moments = [(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals]
    open_now = highest = 0
    for _, change in sorted(moments, key=lambda m: (m[0], m[1])):
        open_now += change
        highest = max(highest, open_now)
    return highest


def test_highest_overlap_counts_open_intervals() -> None:
    t = [datetime(2026, 1, 1, 0, 0, s) for s in range(6)]
    assert highest_overlap([(t[0], t[2]), (t[1], t[3]), (t[2], t[4])]) == 2
    assert highest_overlap([(t[0], t[5]), (t[1], t[2]), (t[3], t[4])]) == 2


def run_and_measure(api: Api, jobs: int, max_concurrency: int) -> int:
    # given a batch of `jobs` jobs waiting at Step 5
    names = [f"Bistro {n:03d}" for n in range(jobs)]
    created = api.client.create_batch(names)
    # when one operation submits Step 5 for all of them at `max_concurrency`
    reply = api.client.post(
        "/operations",
        {
            "action": "submit_step5",
            "selector": {"batch_id": created["batch_id"]},
            "execution_config": {},
            "generate_passwords": True,
            "max_concurrency": max_concurrency,
        },
    )
    assert reply.status == 202, reply
    done = wait_operation(api, reply.body["operation_id"], timeout_s=60 + 12 * jobs)
    assert done["counts"]["succeeded"] == jobs, done
    # then the runs' [start, end] intervals never overlap more than max_concurrency deep
    intervals = []
    for job in created["jobs"]:
        runs = api.client.get(f"/registration-batches/jobs/{job['job_id']}/runs").body["runs"]
        assert len(runs) == 1, runs  # one run per job, never two
        run = runs[0]
        intervals.append(
            (datetime.fromisoformat(run["started_at"]), datetime.fromisoformat(run["ended_at"]))
        )
    overlap = highest_overlap(intervals)
    print(f"\n{jobs} jobs at max_concurrency {max_concurrency}: highest overlap {overlap}")
    assert overlap <= max_concurrency
    return overlap


@pytest.mark.parametrize("api", [{"max_workers_per_function": 4}], indirect=True)
def test_sixty_jobs_at_eight_never_run_more_than_eight_at_once(api: Api) -> None:
    assert run_and_measure(api, 60, 8) >= 4


@pytest.mark.scale
@pytest.mark.timeout(3000)
@pytest.mark.parametrize("api", [{"max_workers_per_function": 8}], indirect=True)
def test_two_hundred_jobs_at_twenty_five_never_run_more_than_twenty_five_at_once(api: Api) -> None:
    assert run_and_measure(api, 200, 25) >= 20
