"""Bulk operations on `make serve`, measured from outside over HTTP, as a user would:

1. **accept**: `POST /operations` naming `accept_ids` job ids (10,000 in the full run): the
   time until the 202 (target < 2 s; the API stores the list and starts the engine, it runs no
   job). That server is then stopped, so that the operation's items do not run beside what
   follows.
2. **throughput and the bound**: a batch of `jobs` restaurants, one `submit_step5` operation
   over it at `max_concurrency`, waited for until it has ended: jobs per minute (from the 202
   to the end) and the highest number of the operation's Step 6 runs open at one moment, from
   each job's runs history (`GET …/jobs/{jobId}/runs`, started_at/ended_at).

`python -m bench.operations JOBS MAX_CONCURRENCY ACCEPT_IDS` prints one JSON object.
"""

from __future__ import annotations

import json
import signal
import sys
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bench.serve_scale import ORG, _call, start_server
from local.samples import restaurant_data

ENDED = ("completed", "cancelled", "failed")


def highest_overlap(intervals: list[tuple[datetime, datetime]]) -> int:
    """The most intervals open at one moment (an end before a start at the same instant)."""
    moments = [(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals]
    open_now = highest = 0
    for _, change in sorted(moments):
        open_now += change
        highest = max(highest, open_now)
    return highest


def _wait_ended(url: str, operation_id: str, timeout_s: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        status, body = _call(url, "GET", f"/operations/{operation_id}", ORG)
        assert status == 200, body
        if body["status"] in ENDED:
            return dict(body)
        if time.monotonic() > deadline:
            raise TimeoutError(f"operation {operation_id} still {body['status']}: {body}")
        time.sleep(0.5)


def accept(url: str, ids: int) -> dict[str, Any]:
    job_ids = [f"job-{uuid.uuid4().hex}" for _ in range(ids)]
    body = {
        "action": "resume_step6",
        "selector": {"job_ids": job_ids},
        "max_concurrency": 1,
    }
    started = time.perf_counter()
    status, answer = _call(url, "POST", "/operations", ORG, body)
    seconds = time.perf_counter() - started
    assert status == 202, answer
    return {"ids": ids, "seconds": round(seconds, 3), "matched": answer["counts"]["matched"]}


def throughput(url: str, jobs: int, max_concurrency: int) -> dict[str, Any]:
    names = [f"Operation Cafe {n:04d}" for n in range(jobs)]
    status, created = _call(
        url,
        "POST",
        "/registration-batches",
        ORG,
        {"name": f"bench operation {jobs}", "restaurants": [restaurant_data(n) for n in names]},
    )
    assert status == 201, created
    started = time.perf_counter()
    status, answer = _call(
        url,
        "POST",
        "/operations",
        ORG,
        {
            "action": "submit_step5",
            "selector": {"batch_id": created["batch_id"]},
            "execution_config": {},
            "generate_passwords": True,
            "max_concurrency": max_concurrency,
        },
    )
    accept_s = time.perf_counter() - started
    assert status == 202, answer
    done = _wait_ended(url, answer["operation_id"], timeout_s=120 + 10 * jobs)
    wall_s = time.perf_counter() - started
    intervals = []
    for job in created["jobs"]:
        status, runs = _call(url, "GET", f"/registration-batches/jobs/{job['job_id']}/runs", ORG)
        assert status == 200, runs
        for run in runs["runs"]:
            if run.get("ended_at"):
                intervals.append(
                    (
                        datetime.fromisoformat(run["started_at"]),
                        datetime.fromisoformat(run["ended_at"]),
                    )
                )
    return {
        "jobs": jobs,
        "max_concurrency": max_concurrency,
        "accept_s": round(accept_s, 3),
        "wall_s": round(wall_s, 1),
        "status": done["status"],
        "counts": done["counts"],
        "runs": len(intervals),
        "max_overlap": highest_overlap(intervals),
        "jobs_per_minute": round(done["counts"]["succeeded"] / wall_s * 60, 1),
    }


def _on_a_fresh_server(measure: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    process, url = start_server({})
    try:
        return measure(url)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def measure(jobs: int, max_concurrency: int, accept_ids: int) -> dict[str, Any]:
    accepted = _on_a_fresh_server(lambda url: accept(url, accept_ids))
    ran = _on_a_fresh_server(lambda url: throughput(url, jobs, max_concurrency))
    return {
        "accept": accepted,
        "throughput": ran,
        f"operation_accept_s_{accept_ids}": accepted["seconds"],
        "operation_max_overlap": ran["max_overlap"],
        "operation_jobs_per_minute": ran["jobs_per_minute"],
    }


def main(argv: list[str]) -> int:
    jobs, max_concurrency, accept_ids = (int(a) for a in argv[:3])
    print(json.dumps(measure(jobs, max_concurrency, accept_ids)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
