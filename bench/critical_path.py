"""Figure 2: Step 6 wall time per job against its critical path and a sequential run.

The simulated platform answers every call after L milliseconds (`set_latency`). References:
- the dependency graph's critical path, 5·L: phase 1's slowest sub-step, restaurantRegistration,
  the slowest of the rest of phase 2, optionSets, itemTags (one platform call each);
- the 12 sub-steps one after another: 12·L.
cloudwaitressAccount looks the account up before creating it (so that a rerun reuses it): two
calls, so the call-level critical path is 6·L, which is reported too.

In-process overheads (moto's Step Functions engine and DynamoDB emulation, run under one
GIL) add a large, noisy constant, so the same jobs also run with L = 0 (the baseline), and
both ratios are given: raw (T_L / reference) and baseline-subtracted ((T_L - T_0) / reference),
the time the platform latency adds. Jobs run one at a time, alternating L and 0; medians.
Durations are Step Functions' own (execution start to stop), phases from the history.
"""

from __future__ import annotations

from statistics import median
from typing import Any

from bench.harness import Bench, TimedInvocation

PHASES = ("PrepareRun", "Phase1", "Phase2", "Phase3", "Phase4", "CompleteRun")
GRAPH_CALLS = 5
CALL_LEVEL_CALLS = 6
SEQUENTIAL_CALLS = 12


def measure(latency_ms: int, repeats: int, endpoint: str | None = None) -> dict[str, Any]:
    runs: dict[int, list[dict[str, Any]]] = {0: [], latency_ms: []}
    invocations: list[TimedInvocation] = []
    with Bench(dynamodb_endpoint_url=endpoint) as bench:
        for i in range(repeats):
            for latency in (0, latency_ms):
                bench.simulator.set_latency(latency)
                batch_id, created = bench.create_batch([f"Path Cafe {latency} {i}"])
                (arn,) = bench.submit(batch_id, created)
                bench.wait([arn])
                runs[latency].append(
                    {"total": bench.duration_s(arn), "phases": bench.phase_durations(arn)}
                )
                if latency == latency_ms:
                    invocations += [t for t in bench.timed if t.execution_arn == arn]
    return summarise(latency_ms, runs, invocations)


def summarise(
    latency_ms: int, runs: dict[int, list[dict[str, Any]]], invocations: list[TimedInvocation]
) -> dict[str, Any]:
    latency = latency_ms / 1000
    with_latency = median(r["total"] for r in runs[latency_ms])
    baseline = median(r["total"] for r in runs[0])
    added = with_latency - baseline

    def phase_median(runs_: list[dict[str, Any]], phase: str) -> float:
        return float(median(r["phases"].get(phase, 0.0) for r in runs_))

    phases = {
        phase: {
            "with_latency_s": phase_median(runs[latency_ms], phase),
            "baseline_s": phase_median(runs[0], phase),
            "added_in_L": (phase_median(runs[latency_ms], phase) - phase_median(runs[0], phase))
            / latency,
        }
        for phase in PHASES
    }
    durations: dict[str, list[float]] = {}
    for t in invocations:
        durations.setdefault(t.function, []).append(t.duration_s)
    return {
        "latency_ms": latency_ms,
        "repeats": len(runs[latency_ms]),
        "step6_s_with_latency": with_latency,
        "step6_s_baseline": baseline,
        "step6_s_added_by_latency": added,
        "critical_path_s": GRAPH_CALLS * latency,
        "sequential_s": SEQUENTIAL_CALLS * latency,
        # Headline ratios: the time the platform latency adds, against the references.
        "critical_path_ratio": added / (GRAPH_CALLS * latency),
        "sequential_ratio": added / (SEQUENTIAL_CALLS * latency),
        "call_level_critical_path_ratio": added / (CALL_LEVEL_CALLS * latency),
        # Raw: everything, moto's in-process overhead included.
        "critical_path_ratio_raw": with_latency / (GRAPH_CALLS * latency),
        "sequential_ratio_raw": with_latency / (SEQUENTIAL_CALLS * latency),
        "phases": phases,
        "runs": {str(k): v for k, v in runs.items()},
        # Median in-process duration of each Lambda at latency L (for the billed estimate).
        "lambda_median_s": {f: float(median(d)) for f, d in sorted(durations.items())},
    }
