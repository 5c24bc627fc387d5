"""`make bench`: every figure of issue 6, written to bench/results/latest.json and latest.md.

    python -m bench.run [--smoke] [--out DIR] [--engine moto|dynamodb-local]

The full run (the default) uses DynamoDB Local for the table (AWS's own emulator; moto 5.2.5
copies the whole table on every TransactWriteItems, which makes large batches quadratic) and
also shows moto's growth on two small batches. `--smoke` runs tiny sizes on moto, skips
`sam build`, and is what tests/bench runs so that the benchmark cannot rot; write its output
elsewhere (`--out`), not over the committed results.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from bench import engines, operations, serve_scale
from local.template import PROJECT_ROOT

T = TypeVar("T")
RESULTS = PROJECT_ROOT / "bench" / "results"


@dataclass(frozen=True)
class Plan:
    engine: str
    cost_jobs: int
    latency_ms: int
    repeats: int
    resume_sub_steps: tuple[str, ...] | None  # None: all 12
    sizes: tuple[int, ...]
    api_jobs: int
    moto_sizes: tuple[int, ...]
    import_runs: int
    package: bool
    # A batch of this many jobs on `make serve`, measured from outside (bench.serve_scale), and
    # how long its idle function processes stay warm.
    serve_jobs: int
    serve_idle_s: float
    # Batches in this process (quicker; peak RSS is then the whole run's) or each in a fresh one.
    in_process: bool
    worker_timeout_s: float
    # One bulk operation on `make serve` (bench.operations): jobs, max_concurrency, and how many
    # job ids the accept figure's POST /operations names.
    operation_jobs: int
    operation_concurrency: int
    operation_accept_ids: int
    # bench.peers: 3 sub-steps (smoke) or all 12, x 3 fault modes, on ours and both peers.
    peers_smoke: bool


FULL = Plan(
    engine=engines.DYNAMODB_LOCAL,
    cost_jobs=3,
    latency_ms=100,
    repeats=5,
    resume_sub_steps=None,
    sizes=(10, 100, 1000),
    api_jobs=500,
    moto_sizes=(10, 30),
    import_runs=7,  # interleaved rounds of every handler module and the bare one
    package=True,
    serve_jobs=300,
    serve_idle_s=20,
    in_process=False,
    worker_timeout_s=3600,
    operation_jobs=200,
    operation_concurrency=25,
    operation_accept_ids=10_000,
    peers_smoke=False,
)
SMOKE = Plan(
    engine=engines.MOTO,
    cost_jobs=1,
    latency_ms=5,
    repeats=1,
    resume_sub_steps=("restaurantRegistration", "websiteConfig"),
    sizes=(1, 2),
    api_jobs=2,
    moto_sizes=(),
    import_runs=1,
    package=False,
    serve_jobs=3,
    serve_idle_s=2,
    in_process=True,
    worker_timeout_s=600,
    operation_jobs=4,
    operation_concurrency=2,
    operation_accept_ids=50,
    peers_smoke=True,
)


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def timed(name: str, timings: dict[str, float], fn: Callable[[], T]) -> T:
    log(f"{name} ...")
    started = time.perf_counter()
    result = fn()
    timings[name] = round(time.perf_counter() - started, 1)
    log(f"{name}: {timings[name]} s")
    return result


def worker(
    mode: str, jobs: int, endpoint: str | None, *, in_process: bool, timeout_s: float
) -> dict[str, Any]:
    """One batch in a fresh process (bench.scale), so that its peak memory is its own."""
    if in_process:
        from bench import scale

        return scale.batch(jobs, endpoint) if mode == "batch" else scale.api(jobs, endpoint)
    command = [sys.executable, "-m", "bench.scale", mode, str(jobs)]
    if endpoint:
        command.append(endpoint)
    env = os.environ | {"PYTHONPATH": f"{PROJECT_ROOT / 'src'}{os.pathsep}{PROJECT_ROOT}"}
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, env=env, cwd=PROJECT_ROOT, timeout=timeout_s
        )
    except subprocess.TimeoutExpired:
        return {"jobs": jobs, "error": f"timed out after {timeout_s:.0f} s"}
    if done.returncode != 0:
        return {"jobs": jobs, "error": done.stderr.strip().splitlines()[-1][:500]}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def measure(plan: Plan) -> dict[str, Any]:
    from bench import coldstart, cost, critical_path, resume_waste
    from domain.catalogue import SUB_STEP_NAMES

    timings: dict[str, float] = {}
    figures: dict[str, Any] = {}
    with engines.dynamodb_endpoint(plan.engine) as endpoint:
        figures["cost"] = timed("cost", timings, lambda: cost.measure(plan.cost_jobs, endpoint))
        figures["critical_path"] = timed(
            "critical_path",
            timings,
            lambda: critical_path.measure(plan.latency_ms, plan.repeats, endpoint),
        )
        sub_steps = plan.resume_sub_steps or SUB_STEP_NAMES
        figures["resume_waste"] = timed(
            "resume_waste", timings, partial(resume_waste.measure, sub_steps, endpoint)
        )
        run = partial(worker, in_process=plan.in_process, timeout_s=plan.worker_timeout_s)
        figures["scale"] = {
            str(size): timed(f"scale {size}", timings, partial(run, "batch", size, endpoint))
            for size in plan.sizes
        }
        figures["batch_api"] = timed(
            f"batch api {plan.api_jobs}", timings, partial(run, "api", plan.api_jobs, endpoint)
        )
    figures["moto_scale"] = {
        str(size): timed(f"moto scale {size}", timings, partial(run, "batch", size, None))
        for size in plan.moto_sizes
    }
    figures["serve"] = timed(
        f"make serve {plan.serve_jobs}",
        timings,
        partial(serve_scale.measure, plan.serve_jobs, plan.serve_idle_s),
    )
    figures["operations"] = timed(
        f"operation {plan.operation_jobs} at {plan.operation_concurrency}",
        timings,
        partial(
            operations.measure,
            plan.operation_jobs,
            plan.operation_concurrency,
            plan.operation_accept_ids,
        ),
    )
    figures["imports"] = timed(
        "handler imports", timings, lambda: coldstart.import_times(plan.import_runs)
    )
    figures["package"] = (
        timed("sam build", timings, coldstart.package_sizes)
        if plan.package
        else {"skipped": "smoke run"}
    )
    from bench.peers.run import run_peers

    figures["peers"] = timed("peers", timings, partial(run_peers, plan.peers_smoke))
    figures["timings_s"] = timings
    return figures


def machine() -> dict[str, Any]:
    from importlib.metadata import version

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average_at_end": list(os.getloadavg()),
        "moto": version("moto"),
        "boto3": version("boto3"),
        "aws_lambda_powertools": version("aws_lambda_powertools"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, no sam build")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for latest.json/.md")
    parser.add_argument("--engine", choices=[engines.MOTO, engines.DYNAMODB_LOCAL])
    args = parser.parse_args(argv)
    plan = SMOKE if args.smoke else FULL
    if args.engine:
        plan = Plan(**{**plan.__dict__, "engine": args.engine})
    from bench import report

    started = time.perf_counter()
    # The application prints EMF metrics on stdout; keep stdout for nothing else.
    real_stdout, sys.stdout = sys.stdout, sys.stderr
    try:
        figures = measure(plan)
    finally:
        sys.stdout = real_stdout
    figures["total_s"] = round(time.perf_counter() - started, 1)
    results = report.compose(plan.__dict__ | {"smoke": args.smoke}, figures, machine())
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.json").write_text(json.dumps(results, indent=2, sort_keys=False) + "\n")
    (args.out / "latest.md").write_text(report.markdown(results))
    log(f"wrote {args.out / 'latest.json'} and latest.md in {figures['total_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
