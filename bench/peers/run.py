"""Side by side with the peers: Step 6 on ours, DBOS and AWS Lambda durable functions.

    python -m bench.peers.run [--smoke]

For each sub-step x {fail, crash_before, crash_after}, on a fresh simulator: run the job, then
recover it each implementation's own way, and record duplicates (effects taken more than once
for the job), re-executions (sub-steps whose logic had returned before the fault and ran again
during recovery), whether the job could be completed from where it stopped, the operator's
action and whether it completed. Then the happy path's wall time with every platform call
delayed by L = 100 ms, against the critical path (5 L).
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.peers import common, dbos_peer, durable_peer, ours
from clients.simulator import FaultSpec, PlatformSimulator
from domain.catalogue import SUB_STEP_NAMES, SUB_STEPS

MODES = ("fail", "crash_before", "crash_after")
SMOKE_SUB_STEPS = ("cloudwaitressAccount", "restaurantRegistration", "websiteConfig")
LATENCY_S = 0.1
CRITICAL_PATH_S = 5 * LATENCY_S


def _all_completed(outcome: dict[str, str] | None, job: common.Job) -> bool:
    return outcome is not None and all(
        outcome.get(spec.name) == "completed" for spec in common.enabled(job)
    )


def _cell(
    impl: str,
    sub_step: str,
    mode: str,
    first: Callable[[common.Job], str],
    recover: Callable[[common.Job, str], tuple[bool, str, bool]],
) -> dict[str, Any]:
    """first(job) -> how the first run ended; recover(job, ended) -> (resumable, operator
    action, completed)."""
    platform = PlatformSimulator()
    job = common.new_job(platform)
    platform.add_fault(FaultSpec(sub_step=sub_step, mode=mode))  # type: ignore[arg-type]
    with common.counting() as counts:
        ended = first(job)
        returned_before = set(counts.returned)
        ran_before = Counter(counts.ran)
        platform.clear_faults()
        resumable, action, completed = recover(job, ended)
    return {
        "impl": impl,
        "sub_step": sub_step,
        "blocking": SUB_STEPS[sub_step].blocking,
        "mode": mode,
        "first_run": ended,
        "duplicates": common.duplicates(platform, job.restaurant.name),
        "reexecuted": sorted(n for n in returned_before if counts.ran[n] > ran_before[n]),
        "resumable": resumable,
        "operator_action": action,
        "completed": completed,
    }


# ------------------------------------------------------------------ ours


def ours_cell(sub_step: str, mode: str) -> dict[str, Any]:
    executions = ours.Executions()

    def first(job: common.Job) -> str:
        return ours.first_run(job, executions)

    def recover(job: common.Job, ended: str) -> tuple[bool, str, bool]:
        ours.resume(job, executions)
        done = ours.completed_sub_steps(job) >= {s.name for s in common.enabled(job)}
        return done, "resume (one API call: POST /jobs/{id}/resume)", done

    return _cell("ours", sub_step, mode, first, recover)


def ours_wall() -> tuple[float, int]:
    platform = PlatformSimulator()
    job = common.new_job(platform)
    delayed = common.DelayedPlatform(platform, LATENCY_S)
    job.started.deps = job.started.deps.__class__(**{**vars(job.started.deps), "platform": delayed})
    started = time.perf_counter()
    status = ours.first_run(job, ours.Executions())
    wall = time.perf_counter() - started
    assert status == "SUCCEEDED", status
    return wall, delayed.calls


# ------------------------------------------------------------------ DBOS


def dbos_cell(variant: str, sub_step: str, mode: str, folder: Path) -> dict[str, Any]:
    database = folder / f"{variant}-{sub_step}-{mode}.sqlite"
    state: dict[str, Any] = {}

    def first(job: common.Job) -> str:
        dbos_peer.launch(database)
        ended, result, _ = dbos_peer.run_job(job, variant)
        state["result"] = result
        return ended

    def recover(job: common.Job, ended: str) -> tuple[bool, str, bool]:
        try:
            if ended == "crashed":
                # The process is gone: a new one launches on the same system database and
                # DBOS recovers the PENDING workflow by itself.
                dbos_peer.destroy()
                dbos_peer.launch(database)
                _, result = dbos_peer.result_of(job.job_id)
                done = _all_completed((result or {}).get("outcome"), job)
                return done, "none (automatic recovery on relaunch)", done
            outcome = (state["result"] or {}).get("outcome")
            if _all_completed(outcome, job):
                return True, "none", True
            start = dbos_peer.failed_step_id(job.job_id, sub_step)
            if start is None:
                return False, "none possible (failed step not found)", False
            _, _, result = dbos_peer.fork_from(job.job_id, start)
            done = _all_completed((result or {}).get("outcome"), job)
            return done, "DBOS.fork_workflow(id, start_step of the failed step)", done
        finally:
            dbos_peer.destroy()

    return _cell(f"dbos/{variant}", sub_step, mode, first, recover)


def dbos_wall(variant: str, folder: Path) -> tuple[float, int]:
    platform = PlatformSimulator()
    job = common.new_job(platform)
    delayed = job.platform = common.DelayedPlatform(platform, LATENCY_S)
    dbos_peer.launch(folder / f"wall-{variant}.sqlite")
    try:
        started = time.perf_counter()
        ended, _, error = dbos_peer.run_job(job, variant)
        wall = time.perf_counter() - started
    finally:
        dbos_peer.destroy()
    assert ended == "completed", error
    return wall, delayed.calls


# ------------------------------------------------------------------ durable functions


def _durable_runner() -> Any:
    runner = durable_peer.runner()
    # The local service waits 5 s (real time) before re-invoking after a failed invocation;
    # cut to 0 to keep the section short. It changes when the re-invocation runs, not what.
    runner._executor.RETRY_BACKOFF_SECONDS = 0
    return runner


def durable_cell(variant: str, sub_step: str, mode: str) -> dict[str, Any]:
    runner = _durable_runner()
    state: dict[str, Any] = {}

    def first(job: common.Job) -> str:
        # A crash is recovered inside this run: the service re-invokes the handler, which
        # replays the checkpoints. The cell's counts cover it (re-execution during replay).
        status, result, _ = durable_peer.run_execution(runner, job, variant, "first")
        state["result"], state["status"] = result, status
        return "crashed" if mode.startswith("crash") else status.lower()

    def recover(job: common.Job, ended: str) -> tuple[bool, str, bool]:
        outcome = (state["result"] or {}).get("outcome")
        if _all_completed(outcome, job):
            action = "none (automatic re-invocation and replay)" if ended == "crashed" else "none"
            return True, action, True
        # A failed (or partly failed) execution cannot be redriven: a new execution.
        _, result, _ = durable_peer.run_execution(runner, job, variant, "second")
        done = _all_completed((result or {}).get("outcome"), job)
        return False, "re-invoke a new execution (runs every step again)", done

    try:
        return _cell(f"durable/{variant}", sub_step, mode, first, recover)
    finally:
        runner.close()


def durable_wall(variant: str) -> tuple[float, int]:
    platform = PlatformSimulator()
    job = common.new_job(platform)
    delayed = job.platform = common.DelayedPlatform(platform, LATENCY_S)
    runner = _durable_runner()
    try:
        started = time.perf_counter()
        status, _, error = durable_peer.run_execution(runner, job, variant, "wall")
        wall = time.perf_counter() - started
    finally:
        runner.close()
    assert status == "SUCCEEDED", error
    return wall, delayed.calls


# ------------------------------------------------------------------ the section


def _summary(cells: list[dict[str, Any]], measured: tuple[float, int]) -> dict[str, Any]:
    """The cells' totals, and the happy path's wall time with its platform calls (at L each,
    their sum is what the wall time would be with no concurrency and no overhead)."""
    wall, calls = measured
    failed = [c for c in cells if c["mode"] == "fail"]
    actions = sorted({c["operator_action"] for c in cells})
    return {
        "duplicates": sum(len(c["duplicates"]) for c in cells),
        "reexecutions": sum(len(c["reexecuted"]) for c in cells),
        "resumable_after_permanent_failure": round(
            sum(c["resumable"] for c in failed) / len(failed), 3
        )
        if failed
        else None,
        "completed": round(sum(c["completed"] for c in cells) / len(cells), 3),
        "operator_action": "; ".join(actions),
        "wall_s": round(wall, 3),
        "platform_calls": calls,
        "calls_one_after_another_s": round(calls * LATENCY_S, 3),
        "critical_path_ratio": round(wall / CRITICAL_PATH_S, 2),
        "cells": cells,
    }


def run_peers(smoke: bool) -> dict[str, Any]:
    logging.disable(logging.WARNING)  # the peers log every step and every retry
    sub_steps = SMOKE_SUB_STEPS if smoke else SUB_STEP_NAMES
    grid = [(s, m) for s in sub_steps for m in MODES]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            results: dict[str, Any] = {
                "latency_ms": int(LATENCY_S * 1000),
                "critical_path_s": CRITICAL_PATH_S,
                "sub_steps": list(sub_steps),
                "modes": list(MODES),
                "ours": _summary([ours_cell(s, m) for s, m in grid], ours_wall()),
                "dbos": {
                    v: _summary([dbos_cell(v, s, m, folder) for s, m in grid], dbos_wall(v, folder))
                    for v in dbos_peer.VARIANTS
                },
                "durable": {
                    v: _summary([durable_cell(v, s, m) for s, m in grid], durable_wall(v))
                    for v in durable_peer.VARIANTS
                },
            }
    finally:
        logging.disable(logging.NOTSET)
    return results


def main(argv: list[str] | None = None) -> int:
    smoke = "--smoke" in (argv if argv is not None else sys.argv[1:])
    real_stdout, sys.stdout = sys.stdout, sys.stderr
    try:
        results = run_peers(smoke)
    finally:
        sys.stdout = real_stdout
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
