"""Figure 3: how many already-succeeded sub-steps a resume re-executes.

For each of the 12 sub-steps, one job whose platform call for that sub-step fails once
(permanently: no in-sub-step retry), all in one batch. After the first run has settled, the
recorded progress is kept; then every job is resumed through the batch resume API and runs to
the end. Counted per job:
- ours: sub-steps that had `completed` before the resume and whose logic ran again during it
  (every sub-step's logic is wrapped to count its executions; the simulator's ledger `calls`
  of those sub-steps' mutating platform calls must not grow either);
- the seed's phase-level plan and the old restart-from-phase-1, computed from the same
  recorded progress by the pure planners in `bench.seed_plans`.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bench import seed_plans
from bench.harness import Bench
from clients.simulator import FaultSpec
from domain.catalogue import SUB_STEP_NAMES, SUB_STEPS


@contextmanager
def counting_executions() -> Iterator[Counter[tuple[str, str]]]:
    """Count each sub-step logic execution by (job id, sub-step)."""
    from domain.catalogue import SUB_STEP_LOGIC

    counts: Counter[tuple[str, str]] = Counter()
    lock = threading.Lock()
    original = dict(SUB_STEP_LOGIC)

    def counted(name: str) -> Any:
        logic = original[name]

        def run(inp: Any) -> dict[str, Any]:
            with lock:
                counts[(inp.job_id, name)] += 1
            return logic(inp)

        return run

    SUB_STEP_LOGIC.update({name: counted(name) for name in original})
    try:
        yield counts
    finally:
        SUB_STEP_LOGIC.update(original)


def measure(
    sub_steps: tuple[str, ...] = SUB_STEP_NAMES, endpoint: str | None = None
) -> dict[str, Any]:
    from handlers.wiring import api_deps

    rows: list[dict[str, Any]] = []
    with Bench(dynamodb_endpoint_url=endpoint) as bench, counting_executions() as executions:
        names = {s: f"Fail {s}" for s in sub_steps}
        for sub_step, restaurant in names.items():
            bench.simulator.add_fault(
                FaultSpec(sub_step=sub_step, mode="fail", restaurant=restaurant)
            )
        batch_id, created = bench.create_batch(list(names.values()))
        bench.wait(bench.submit(batch_id, created))
        repo = api_deps().jobs
        by_name = {j["restaurant_name"]: j["job_id"] for j in created}
        recorded = {s: repo.get_job(by_name[names[s]]) for s in sub_steps}
        calls_before = _ledger_calls(bench)
        executions.clear()
        resumed = bench.resume(batch_id, [by_name[names[s]] for s in sub_steps])
        bench.wait(resumed)
        calls_after = _ledger_calls(bench)
        for sub_step in sub_steps:
            job = recorded[sub_step]
            assert job.execution_config is not None
            progress, config = job.step6_progress, job.execution_config
            done = seed_plans.completed(progress)
            ours = sorted(n for n in done if executions[(job.job_id, n)] > 0)
            ledger_repeats = sorted(
                n
                for n in done
                if calls_after.get((job.job_id, n), 0) > calls_before.get((job.job_id, n), 0)
            )
            final = repo.get_job(job.job_id)
            rows.append(
                {
                    "failed_sub_step": sub_step,
                    "blocking": SUB_STEPS[sub_step].blocking,
                    "status_after_failure": job.status.value,
                    "succeeded_before_resume": len(done),
                    "ours": len(ours),
                    "ours_reexecuted": ours,
                    "ours_ledger_repeated_calls": ledger_repeats,
                    "ours_executed": sorted(
                        n for (j, n), c in executions.items() if j == job.job_id and c
                    ),
                    "seed_phase_level": len(
                        seed_plans.reexecuted(
                            seed_plans.seed_phase_level(progress, config), progress
                        )
                    ),
                    "seed_literal": len(
                        seed_plans.reexecuted(seed_plans.seed_literal(progress, config), progress)
                    ),
                    "restart": len(
                        seed_plans.reexecuted(seed_plans.restart(progress, config), progress)
                    ),
                    "status_after_resume": final.status.value,
                }
            )
    blocking = [r for r in rows if r["blocking"]]
    return {
        "rows": rows,
        "resume_reexecuted_max": max(r["ours"] for r in rows),
        "ledger_repeated_calls_max": max(len(r["ours_ledger_repeated_calls"]) for r in rows),
        "seed_phase_level_reexecuted_max_blocking": max(
            (r["seed_phase_level"] for r in blocking), default=0
        ),
        "seed_phase_level_reexecuted_max": max(r["seed_phase_level"] for r in rows),
        "seed_literal_reexecuted_max": max(r["seed_literal"] for r in rows),
        "restart_reexecuted_max": max(r["restart"] for r in rows),
        "resume_reexecuted_total": sum(r["ours"] for r in rows),
        "seed_phase_level_reexecuted_total": sum(r["seed_phase_level"] for r in rows),
        "restart_reexecuted_total": sum(r["restart"] for r in rows),
        "all_completed_after_resume": all(r["status_after_resume"] == "completed" for r in rows),
    }


def _ledger_calls(bench: Bench) -> dict[tuple[str, str], int]:
    calls: dict[tuple[str, str], int] = {}
    for entry in bench.simulator.ledger():
        key = (entry.job_id, entry.sub_step)
        calls[key] = calls.get(key, 0) + entry.calls
    return calls
