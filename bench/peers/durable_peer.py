"""Step 6 on AWS Lambda durable functions: a `@durable_execution` handler, `context.step` per
sub-step and `context.parallel` for a phase's sub-steps that do not need each other.

Run locally by the SDK's `DurableFunctionTestRunner` (its in-memory checkpoint service and
in-process invoker). A crash (`SimulatedCrash`, the Lambda process gone) reaches the service as
a failed invocation (the runtime's `Runtime.ExitError`): the service re-invokes the handler,
which replays the checkpointed steps and runs the interrupted one again. A failed execution
cannot be redriven: the operator invokes a NEW execution, which runs every step again.

Transient platform errors are retried inside the step (`call_sub_step`, as ours); the step's
retry strategy retries nothing else, so a permanent platform error fails the step at once.
"""

from __future__ import annotations

import json
from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import StepConfig
from aws_durable_execution_sdk_python.retries import RetryDecision

from bench.peers import common
from bench.peers.common import BlockingFailureError, Job
from clients.simulator import SimulatedCrash
from domain.substeps.base import SubStep

JOBS: dict[str, Job] = {}
VARIANTS = ("default", "guided")


def _no_retry(error: Exception, attempts_made: int) -> RetryDecision:
    return RetryDecision.no_retry()


STEP_CONFIG = StepConfig(retry_strategy=_no_retry)


def _run_step(
    context: DurableContext,
    job: Job,
    variant: str,
    spec: SubStep,
    outputs: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    identity = context.execution_context.durable_execution_arn

    def body(_: Any) -> dict[str, Any]:
        meta = (
            common.stable_meta(job, identity, spec.name)
            if variant == "guided"
            else common.fresh_meta(job, spec.name)
        )
        return common.call_sub_step(job, spec, outputs, meta)

    return context.step(body, name=spec.name, config=STEP_CONFIG)


def _attempt(
    context: DurableContext, job: Job, variant: str, spec: SubStep, outputs: dict[str, Any]
) -> dict[str, Any]:
    try:
        return {"status": "completed", "output": _run_step(context, job, variant, spec, outputs)}
    except Exception as error:  # noqa: BLE001 - recorded; a blocking one fails the handler
        return {"status": "failed", "error": str(error)}


@durable_execution
def step6(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    job, variant = JOBS[event["job_id"]], event["variant"]
    outputs: dict[str, dict[str, Any]] = {}
    outcome: dict[str, str] = {}
    for phase in common.PHASES:
        for level in common.phase_levels(job, phase):
            runnable = []
            for spec in level:
                if common.unmet(spec, outcome):
                    outcome[spec.name] = "skipped"
                else:
                    runnable.append(spec)
            if not runnable:
                continue
            seen = dict(outputs)
            if len(runnable) == 1:
                results = [_attempt(context, job, variant, runnable[0], seen)]
            else:
                branches = [
                    (lambda ctx, s=spec, seen=seen: _attempt(ctx, job, variant, s, seen))
                    for spec in runnable
                ]
                batch = context.parallel(branches, name=f"{phase}-{runnable[0].name}")
                results = [item.result for item in sorted(batch.all, key=lambda i: i.index)]
            for spec, result in zip(runnable, results, strict=True):
                outcome[spec.name] = result["status"]
                if result["status"] == "completed":
                    outputs[spec.name] = result["output"]
            for spec, result in zip(runnable, results, strict=True):
                if result["status"] == "failed" and spec.blocking:
                    raise BlockingFailureError(f"{spec.name}: {result['error']}")
    return {"outcome": outcome}


def lambda_handler(event: Any, context: Any) -> Any:
    """The Lambda entry: a process crash reaches the service as a failed invocation."""
    try:
        return step6(event, context)
    except SimulatedCrash as crash:
        raise RuntimeError(f"Runtime.ExitError: {crash}") from None


def runner() -> Any:
    from aws_durable_execution_sdk_python_testing import DurableFunctionTestRunner

    return DurableFunctionTestRunner(handler=lambda_handler)


def run_execution(
    test_runner: Any, job: Job, variant: str, execution_name: str
) -> tuple[str, dict[str, Any] | None, str | None]:
    """One execution to its end (re-invocations included): (status, result, error)."""
    JOBS[job.job_id] = job
    done = test_runner.run(
        input=json.dumps({"job_id": job.job_id, "variant": variant}),
        execution_name=execution_name,
        execution_timeout=120,
    )
    status = str(getattr(done.status, "value", done.status))
    result = json.loads(done.result) if done.result else None
    error = done.error.message if done.error is not None else None
    return status, result, error
