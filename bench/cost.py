"""Figure 1: what one full Step 6 run costs per job, in AWS requests and units.

Counted from the Step 5 submission (the API call that starts Step 6) until the run has
settled (the reconciler has handled the status-change event); creating the batch is not
counted. Jobs run one at a time, so nothing else is in flight.

The job's password: the KMS requests that encrypted and decrypted it, and whether the job still
holds its ciphertext once the run has settled (it is forgotten once no sub-step can read it; a
ciphertext held costs nothing beyond the job item's bytes).

State changes, the denominator of the writes target, are counted from the progress the run
leaves behind (`state_changes`), independently of the writes that recorded them:
- a sub-step that ran: one change per attempt (to `in_progress`) plus one to its outcome
  (`completed` / `failed`); a skipped one: one change; a pending one: none;
- a phase that ran: two (to `in_progress`, then to its outcome);
- the job: two per run (claimed: `in_progress`; settled: `completed` / `action_required`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from statistics import mean
from typing import Any

from bench.harness import Bench
from domain.resume import phase_statuses
from state.models import Job, PhaseStatus, SubStepStatus


def state_changes(job: Job) -> dict[str, int]:
    sub_steps = 0
    phases = 0
    # phase statuses are derived (never written), but they are state changes a user sees
    for status in phase_statuses(job.execution_config, job.step6_progress).values():
        if status != PhaseStatus.PENDING:
            phases += 1 if status == PhaseStatus.IN_PROGRESS else 2
    for phase in job.step6_progress.phases.values():
        for sub in phase.sub_steps.values():
            if sub.status in (SubStepStatus.COMPLETED, SubStepStatus.FAILED):
                sub_steps += sub.attempts + 1
            elif sub.status == SubStepStatus.IN_PROGRESS:
                sub_steps += sub.attempts
            elif sub.status == SubStepStatus.SKIPPED:
                sub_steps += 1
    jobs = 2 * job.run_number
    return {"sub_step": sub_steps, "phase": phases, "job": jobs, "total": sub_steps + phases + jobs}


def classify_write(kind: str, request: Mapping[str, Any]) -> str:
    """What an item write records, from the repository's key design and expressions."""
    key = request.get("Key") or request.get("Item") or {}
    sort_key = str(key.get("sk", {}).get("S", ""))
    expression = str(request.get("UpdateExpression", ""))
    if sort_key.startswith("EVENT#"):
        return "audit event"
    if sort_key == "BATCH":
        return "batch counters" if kind == "Update" else "batch created"
    if sort_key == "JOB#RESTAURANT":
        return "restaurant created"
    if sort_key == "JOB":
        if kind == "Put":
            return "job created"
        if "sub_steps.#sub " in expression:
            return "sub-step checkpoint"
        if "sub_steps.#s0 " in expression:
            return "sub-steps started / skipped together"
        return "job status (claim / settle)"
    return kind


def measure(jobs: int, endpoint: str | None = None) -> dict[str, Any]:
    """Run `jobs` single-job batches one after another; per-job averages of everything."""
    per_job: list[dict[str, Any]] = []
    bench = Bench(measure_sizes=True, dynamodb_endpoint_url=endpoint)
    bench.recorder.classify = classify_write
    api_s: list[float] = []
    with bench:
        from handlers.wiring import api_deps

        for i in range(jobs):
            batch_id, created = bench.create_batch([f"Cost Cafe {i}"])
            bench.recorder.reset()
            first_timed = len(bench.timed)
            first_invocation = len(bench.runtime.lambdas.invocations)
            submitted = time.monotonic()
            (arn,) = bench.submit(batch_id, created)
            bench.wait([arn])
            settled = time.monotonic()
            usage = bench.recorder.snapshot()
            invocations = bench.runtime.lambdas.invocations[first_invocation:]
            timed = bench.timed[first_timed:]
            api_s += [t.duration_s for t in timed if t.function == "ApiFunction"]
            job = api_deps().jobs.get_job(created[0]["job_id"])
            if job.status.value != "completed":
                raise RuntimeError(f"cost run: job ended {job.status.value}, not completed")
            per_job.append(
                {
                    "usage": usage,
                    "transitions": bench.transitions(arn),
                    "entered_states": bench.runtime.entered_states(arn),
                    "lambda_invocations": [i.function for i in invocations],
                    # The API call that submitted Step 5 is a Lambda invocation too.
                    "api_invocations": sum(1 for t in timed if t.function == "ApiFunction"),
                    "state_changes": state_changes(job),
                    "password_left": _holds_password(job),
                    "settled_s": settled - submitted,
                }
            )
    return summarise(per_job) | {"api_median_s": float(sorted(api_s)[len(api_s) // 2])}


def _holds_password(job: Job) -> bool:
    """The settled job still holds its password's ciphertext (a sub-step could still read it)."""
    config = job.execution_config
    return config is not None and config.account.password_secret_ref is not None


def summarise(per_job: list[dict[str, Any]]) -> dict[str, Any]:
    def avg(get: Any) -> float:
        return float(mean(get(p) for p in per_job))

    ddb = [p["usage"]["dynamodb"] for p in per_job]
    calls = [p["usage"]["calls"] for p in per_job]

    def call_avg(name: str) -> float:
        return float(mean(c.get(name, 0) for c in calls))

    changes = {k: avg(lambda p, k=k: p["state_changes"][k]) for k in per_job[0]["state_changes"]}
    item_writes = float(mean(d["item_writes"] for d in ddb))
    write_requests = float(mean(d["write_requests"] for d in ddb))
    by_operation: dict[str, float] = {}
    by_kind: dict[str, float] = {}
    for d in ddb:
        for op, n in d["by_operation"].items():
            by_operation[op] = by_operation.get(op, 0) + n / len(ddb)
        for kind, n in d["writes_by_kind"].items():
            by_kind[kind] = by_kind.get(kind, 0) + n / len(ddb)
    functions: dict[str, float] = {}
    for p in per_job:
        for f in p["lambda_invocations"]:
            functions[f] = functions.get(f, 0) + 1 / len(per_job)
    return {
        "jobs_measured": len(per_job),
        "dynamodb": {
            "write_requests": write_requests,
            "item_writes": item_writes,
            "transactional_item_writes": float(mean(d["transactional_item_writes"] for d in ddb)),
            "read_requests": float(mean(d["read_requests"] for d in ddb)),
            "wru": float(mean(d["wru"] for d in ddb)),
            "gsi_wru": float(mean(d["gsi_wru"] for d in ddb)),
            "rru": float(mean(d["rru"] for d in ddb)),
            "written_kb_per_item_write": float(
                mean(d["written_bytes"] for d in ddb) / 1024 / max(item_writes, 1)
            ),
            "by_operation": by_operation,
            "item_writes_by_kind": by_kind,
        },
        "state_changes": changes,
        # every write unit a job's run costs, base table and indexes (381 with gsi1 ALL and
        # the menu on the job item; the target is at most 120)
        "ddb_wru_per_job": float(mean(d["wru"] + d["gsi_wru"] for d in ddb)),
        "writes_per_state_change": item_writes / changes["total"],
        "writes_per_sub_step_state_change": item_writes / changes["sub_step"],
        "transitions": avg(lambda p: p["transitions"]),
        "entered_states": per_job[0]["entered_states"],
        "lambda_invocations": avg(lambda p: len(p["lambda_invocations"])),
        "lambda_invocations_by_function": functions,
        "api_invocations": avg(lambda p: p["api_invocations"]),
        "s3": {
            "put": call_avg("s3.PutObject"),
            "get": call_avg("s3.GetObject"),
        },
        # the platform's API key (PlatformMode=http), read by the phases
        "secretsmanager": {
            "api_calls": float(
                mean(sum(n for k, n in c.items() if k.startswith("secretsmanager.")) for c in calls)
            ),
        },
        "passwords": {
            "kms_requests": float(
                mean(sum(n for k, n in c.items() if k.startswith("kms.")) for c in calls)
            ),
            "encrypts": call_avg("kms.Encrypt"),
            "decrypts": call_avg("kms.Decrypt"),
            "held_after_run": avg(lambda p: 1.0 if p["password_left"] else 0.0),
            "settled_s": avg(lambda p: p["settled_s"]),
        },
        "stepfunctions_api_calls": {
            k: call_avg(k)
            for k in sorted({k for c in calls for k in c if k.startswith("stepfunctions.")})
        },
    }
