"""Figure 4: batches of N jobs through the local runtime, each batch in a fresh process.

`python -m bench.scale batch N [DYNAMODB_ENDPOINT]` creates a batch of N restaurants, submits
Step 5 for all of them through the API (in as few calls as its per-request limit allows) and
waits until every run has settled; it prints one JSON object: wall time, CPU time, peak RSS (the
process's own `ru_maxrss`: a fresh process per size, so sizes do not inherit each other's peak)
and the AWS requests per job.

`python -m bench.scale api N [DYNAMODB_ENDPOINT]` measures the two batch API calls of DESIGN
section 6 for N jobs, against API Gateway's 29 s integration timeout: Step 5 submission (which
starts every run) and batch resume (every job failed at cloudwaitressAccount, so both runs end
quickly). While each call runs, the executions it starts are held at PrepareRun: on AWS they run
elsewhere, not in the API function's process, so they must not compete with it for this
process's CPU here.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from bench.harness import Bench, max_jobs_per_request
from clients.simulator import FaultSpec


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def batch(jobs: int, endpoint: str | None = None) -> dict[str, Any]:
    with Bench(dynamodb_endpoint_url=endpoint) as bench:
        started = time.perf_counter()
        cpu = time.process_time()
        batch_id, created = bench.create_batch([f"Scale Cafe {i}" for i in range(jobs)])
        created_s = time.perf_counter() - started
        bench.recorder.reset()
        first_invocation = len(bench.runtime.lambdas.invocations)
        submit_started = time.perf_counter()
        arns = bench.submit(batch_id, created)
        submit_s = time.perf_counter() - submit_started
        bench.wait(arns)
        wall_s = time.perf_counter() - started
        run_s = time.perf_counter() - submit_started
        cpu_s = time.process_time() - cpu
        usage = bench.recorder.snapshot()
        invocations = len(bench.runtime.lambdas.invocations) - first_invocation
        statuses: dict[str, int] = {}
        for j in created:
            status = bench.job(j["job_id"])["status"]
            statuses[status] = statuses.get(status, 0) + 1
        sample = arns[:: max(1, len(arns) // 20)]
        transitions = sum(bench.transitions(a) for a in sample) / len(sample)
    ddb = usage["dynamodb"]
    calls = usage["calls"]
    return {
        "jobs": jobs,
        "wall_s": wall_s,
        "run_s": run_s,
        "create_batch_s": created_s,
        "submit_s": submit_s,
        "cpu_s": cpu_s,
        "per_job_s": run_s / jobs,
        "cpu_per_job_s": cpu_s / jobs,
        "peak_rss_mb": _rss_mb(),
        "statuses": statuses,
        "per_job": {
            "ddb_requests": (ddb["read_requests"] + ddb["write_requests"]) / jobs,
            "ddb_read_requests": ddb["read_requests"] / jobs,
            "ddb_write_requests": ddb["write_requests"] / jobs,
            "ddb_item_writes": ddb["item_writes"] / jobs,
            "lambda_invocations": invocations / jobs,
            "s3_requests": sum(n for k, n in calls.items() if k.startswith("s3.")) / jobs,
            "state_transitions": transitions,
            "aws_requests": sum(calls.values()) / jobs,
        },
    }


PROBE_JOBS = 50
# Assumed AWS latency of one call, same region (generous, p99-ish; an assumption, not a
# measurement): used only for the labelled estimate of the API call's time on AWS.
AWS_CALL_LATENCY_S = {
    "dynamodb.GetItem": 0.015,
    "dynamodb.Query": 0.030,
    "dynamodb.PutItem": 0.020,
    "dynamodb.UpdateItem": 0.020,
    "dynamodb.DeleteItem": 0.020,
    "dynamodb.BatchWriteItem": 0.050,
    "dynamodb.TransactWriteItems": 0.040,
    "kms.Encrypt": 0.020,
    "stepfunctions.StartExecution": 0.100,
    "stepfunctions.DescribeExecution": 0.050,
}
DEFAULT_LATENCY_S = 0.050


def _call(bench: Bench, jobs: int, fn: Any) -> dict[str, Any]:
    """Time one batch API call with its executions held; what it asked of AWS, per job."""
    before = bench.recorder.snapshot()
    cpu = time.process_time()
    started = time.perf_counter()
    fn()
    wall_s = time.perf_counter() - started
    cpu_s = time.process_time() - cpu
    after = bench.recorder.snapshot()
    calls = {
        k: n - before["calls"].get(k, 0)
        for k, n in after["calls"].items()
        if n - before["calls"].get(k, 0)
    }
    return {
        "wall_s": wall_s,
        "cpu_s": cpu_s,
        "in_aws_calls_s": after["call_seconds"] - before["call_seconds"],
        "calls": calls,
        "calls_per_job": {k: n / jobs for k, n in sorted(calls.items())},
    }


@contextmanager
def one_job_at_a_time() -> Iterator[None]:
    """The batch use cases run their jobs sequentially (a probe: see `estimate_on_aws`)."""
    from domain import concurrency

    workers = concurrency.MAX_WORKERS
    concurrency.MAX_WORKERS = 1
    try:
        yield
    finally:
        concurrency.MAX_WORKERS = workers


def estimate_on_aws(
    probe: dict[str, Any], probe_jobs: int, call: dict[str, Any], jobs: int
) -> dict[str, Any]:
    """The call's time on AWS: our own time (from a sequential probe, where wall time is our
    code plus the emulated calls, one after another) plus the calls it makes at assumed AWS
    latencies, MAX_WORKERS of them at a time (the use case's concurrency). Our own time does
    not overlap across workers (one process, one GIL), so it is added whole."""
    from domain import concurrency

    own_per_job = max(0.0, probe["wall_s"] - probe["in_aws_calls_s"]) / probe_jobs
    workers = min(concurrency.MAX_WORKERS, jobs)
    aws_s = sum(n * AWS_CALL_LATENCY_S.get(k, DEFAULT_LATENCY_S) for k, n in call["calls"].items())
    return {
        "own_s_per_job": own_per_job,
        "own_s": own_per_job * jobs,
        "aws_calls_s": aws_s / workers,
        "workers": workers,
        "estimated_s": own_per_job * jobs + aws_s / workers,
        "latencies_assumed_s": AWS_CALL_LATENCY_S,
    }


def _held_call(
    bench: Bench, jobs: int, start: Callable[[], list[str]], sequential: bool = False
) -> dict[str, Any]:
    """`_call` of an API call that starts executions, held at PrepareRun while it runs (the
    call alone `one_job_at_a_time` if `sequential`); returns once those executions settled."""
    executions: list[str] = []
    bench.hold_executions()
    with one_job_at_a_time() if sequential else nullcontext():
        measured = _call(bench, jobs, lambda: executions.extend(start()))
    bench.release_executions()
    bench.wait(executions)
    return measured


def api(jobs: int, endpoint: str | None = None) -> dict[str, Any]:
    with Bench(dynamodb_endpoint_url=endpoint) as bench:
        # Held executions have no activity; idle polling would only compete with the call.
        bench.runtime.idle_poll_s = 3600
        started = time.perf_counter()
        batch_id, created = bench.create_batch([f"Api Cafe {i}" for i in range(jobs)])
        create_s = time.perf_counter() - started
        # Every run fails at its first blocking sub-step, and so does every resumed run.
        bench.simulator.add_fault(
            FaultSpec(sub_step="cloudwaitressAccount", mode="fail", times=10_000)
        )
        probe_jobs = min(PROBE_JOBS, jobs)
        job_ids = [j["job_id"] for j in created]
        submit = _held_call(bench, jobs, lambda: bench.submit(batch_id, created))
        resume = _held_call(bench, jobs, lambda: bench.resume(batch_id, job_ids))
        # The probe: the same calls for a few jobs, one job at a time.
        probe_batch, probe_created = bench.create_batch(
            [f"Probe Cafe {i}" for i in range(probe_jobs)]
        )
        probe_ids = [j["job_id"] for j in probe_created]
        submit_probe = _held_call(
            bench, probe_jobs, lambda: bench.submit(probe_batch, probe_created), sequential=True
        )
        resume_probe = _held_call(
            bench, probe_jobs, lambda: bench.resume(probe_batch, probe_ids), sequential=True
        )
    submit["on_aws"] = estimate_on_aws(submit_probe, probe_jobs, submit, jobs)
    resume["on_aws"] = estimate_on_aws(resume_probe, probe_jobs, resume, jobs)
    return {
        "jobs": jobs,
        "create_batch_s": create_s,
        "submit_step5_s": submit["wall_s"],
        "resume_batch_s": resume["wall_s"],
        "submit_step5": submit,
        "resume_batch": resume,
        "probe_jobs": probe_jobs,
        "submit_step5_estimated_on_aws_s": submit["on_aws"]["estimated_s"],
        "resume_batch_estimated_on_aws_s": resume["on_aws"]["estimated_s"],
        "api_requests": {
            "submit_step5": -(-jobs // max_jobs_per_request()),
            "resume_batch": -(-jobs // max_jobs_per_request()),
        },
        # The batch-wide calls' cap (domain.batch_actions.batch_call_cap) and one call at it,
        # estimated on AWS: the jobs go in calls of at most the cap.
        "batch_call_cap": max_jobs_per_request(),
        "batch_call_estimated_on_aws_s": max(
            submit["on_aws"]["estimated_s"], resume["on_aws"]["estimated_s"]
        )
        / -(-jobs // max_jobs_per_request()),
        "peak_rss_mb": _rss_mb(),
    }


def main(argv: list[str]) -> int:
    mode, jobs = argv[0], int(argv[1])
    endpoint = argv[2] if len(argv) > 2 else None
    result = batch(jobs, endpoint) if mode == "batch" else api(jobs, endpoint)
    # stdout carries the result only: anything the application printed went elsewhere.
    sys.__stdout__.write(json.dumps(result) + "\n")  # type: ignore[union-attr]
    return 0


if __name__ == "__main__":
    sys.stdout = sys.stderr  # the application's prints (EMF metrics) must not mix in
    sys.exit(main(sys.argv[1:]))
