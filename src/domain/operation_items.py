"""One job of a bulk operation, as the BulkOperation map's item task runs it (§13).

The task (`lambda:invoke.waitForTaskToken`) records the item with its token, then claims the
job and starts its run; the token is answered when the run settles
(`domain.operation_outcomes.run_settled`), or at once for a job rejected or skipped. A second
invocation for the same job (a redrive of the operation's execution, a retried invoke) never
starts a second run: it re-registers the new token and answers at once if the outcome is known.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from clients.executions import ExecutionRunner, ExecutionStopError
from clients.secrets import SecretStore
from clients.storage import ObjectStore
from clients.task_tokens import TaskTokens
from domain import operation_outcomes
from domain.batch_actions import JobRejection, RejectionCode, _attempt
from domain.errors import NotRunningError
from domain.observability import logger
from domain.onboarding import submit_step5
from domain.operations import Selector, generated_password, job_config, matches, tally
from domain.operator_actions import cancel_run
from domain.readiness import ready
from domain.runs import StartedRun, resume_job
from domain.settlement import reconcile_stale
from state.errors import NotFoundError
from state.models import Job
from state.operations import Operation, OperationItem, OperationRepository, OperationStatus
from state.repository import JobRepository

NOT_MATCHED = "not_matched"  # a named job the selector's other fields do not take
STOP_FAILED = "stop_failed"


@dataclass(frozen=True)
class ItemDeps:
    jobs: JobRepository
    ops: OperationRepository
    secrets: SecretStore
    store: ObjectStore
    executions: ExecutionRunner
    tokens: TaskTokens


def run_item(
    deps: ItemDeps,
    operation_id: str,
    job_id: str,
    task_token: str,
    per_job: Mapping[str, Any] | None = None,
) -> str:
    """Run one job of the operation; returns the item's outcome as it stands now."""
    op = deps.ops.get_any(operation_id)
    seen = deps.ops.record_item(operation_id, job_id, task_token)
    if seen is not None:
        return _again(deps, op, seen, task_token, per_job or {})
    if op.status == "queued":
        deps.ops.mark_running(operation_id)
    return _start(deps, op, job_id, per_job or {})


def _decide(deps: ItemDeps, op: Operation, job_id: str, outcome: Any, **kw: Any) -> str:
    operation_outcomes.answer(deps.ops, deps.tokens, op.operation_id, job_id, outcome, **kw)
    return str(outcome)


def _start(deps: ItemDeps, op: Operation, job_id: str, per_job: Mapping[str, Any]) -> str:
    if deps.ops.get_any(op.operation_id).cancel_requested_at is not None:
        return _decide(deps, op, job_id, "cancelled", reason="the operation was cancelled")
    try:
        job = deps.jobs.get_job_for_org(op.org_id, job_id)
    except NotFoundError:
        return _decide(
            deps,
            op,
            job_id,
            "rejected",
            code=RejectionCode.NOT_FOUND,
            reason=f"job {job_id} not found",
        )
    name = job.restaurant.name
    given = {k: v for k, v in op.selector.items() if k != "job_count"}
    if not matches(Selector.model_construct(**given), job):
        return _decide(
            deps,
            op,
            job_id,
            "rejected",
            code=NOT_MATCHED,
            reason="the job no longer matches the selector",
            restaurant_name=name,
        )
    if op.action == "cancel":
        return _cancel(deps, op, job)
    result = _attempt(deps.jobs, job, _action(deps, op, per_job))
    if isinstance(result, JobRejection):
        return _decide(
            deps,
            op,
            job_id,
            "rejected",
            code=result.code,
            reason=result.reason,
            restaurant_name=name,
        )
    deps.ops.item_started(op.operation_id, job_id, result.execution_arn, name)
    logger.info("operation item started", operation_id=op.operation_id, job_id=job_id)
    return "running"


def _action(
    deps: ItemDeps, op: Operation, per_job: Mapping[str, Any]
) -> Callable[[Job], StartedRun]:
    if op.action == "resume_step6":
        return lambda job: resume_job(
            deps.jobs,
            deps.executions,
            job,
            actor=op.actor,
            trigger="operation",
            operation_id=op.operation_id,
        )

    def step5(job: Job) -> StartedRun:
        assert op.config_key is not None
        shared = json.loads(deps.store.get_text(op.config_key))
        password = (
            generated_password()
            if op.generate_passwords
            else deps.secrets.get_password(op.password_secret_ref)
            if op.password_secret_ref
            else None
        )
        restaurant = ready(job)
        config = job_config(
            shared,
            per_job,
            email=restaurant.email,
            menu_id=restaurant.menu.menu_id,
            password=password,
        )
        return submit_step5(
            deps.jobs,
            deps.secrets,
            deps.executions,
            job,
            config,
            actor=op.actor,
            trigger="operation",
            operation_id=op.operation_id,
        )

    return step5


def _cancel(deps: ItemDeps, op: Operation, job: Job) -> str:
    try:
        arn = cancel_run(deps.jobs, deps.executions, op.org_id, job.job_id, actor=op.actor)
    except NotRunningError as error:
        return _decide(
            deps,
            op,
            job.job_id,
            "rejected",
            code="not_running",
            reason=str(error),
            restaurant_name=job.restaurant.name,
        )
    except ExecutionStopError as error:
        return _decide(
            deps,
            op,
            job.job_id,
            "rejected",
            code=STOP_FAILED,
            reason=str(error),
            restaurant_name=job.restaurant.name,
        )
    return _decide(
        deps, op, job.job_id, "succeeded", restaurant_name=job.restaurant.name, execution_arn=arn
    )


def _again(
    deps: ItemDeps, op: Operation, item: OperationItem, token: str, per_job: Mapping[str, Any]
) -> str:
    """A second invocation for a job: never a second run; answer now if the outcome is known."""
    if item.answered_at is not None:
        deps.tokens.succeed(token, operation_outcomes.token_output(item))
        return item.outcome
    arn = item.execution_arn
    if arn is None:
        job = deps.jobs.get_job(item.job_id)
        run = deps.jobs.get_run(job.job_id, job.runs_recorded) if job.runs_recorded else None
        if run is None or run.operation_id != op.operation_id:
            return _start(deps, op, item.job_id, per_job)  # it never started: start it now
        arn = run.execution_arn
        deps.ops.item_started(op.operation_id, item.job_id, arn, job.restaurant.name)
    job = reconcile_stale(deps.jobs, deps.executions, deps.jobs.get_job(item.job_id))
    if job.active_execution == arn:
        return "running"  # its settlement answers the new token
    decided = deps.ops.get_item(op.operation_id, item.job_id)
    if decided is not None and decided.answered_at is not None:
        deps.tokens.succeed(token, operation_outcomes.token_output(decided))
        return decided.outcome
    outcome, code, reason = operation_outcomes.job_outcome(job)
    return _decide(
        deps,
        op,
        item.job_id,
        outcome,
        code=code,
        reason=reason,
        restaurant_name=job.restaurant.name,
        execution_arn=arn,
    )


def item_failed(deps: ItemDeps, operation_id: str, job_id: str, error: str) -> None:
    """The item's task failed for good (caught in the map): the job is a result, rejected."""
    if deps.ops.get_item(operation_id, job_id) is None:
        deps.ops.record_item(operation_id, job_id, "")
    deps.ops.decide_item(
        operation_id, job_id, "rejected", code=RejectionCode.START_FAILED, reason=error[:500]
    )


def _record_unrun(deps: ItemDeps, op: Operation) -> None:
    """A map that ended normally closed every item; a job still without one is a job whose
    item task and failure record both failed before writing anything, so nothing started it.
    It is recorded as rejected (start_failed), so the counts are exact and the job can be taken
    by another operation. Never after a failed map: a redrive of it will run those items."""
    listed = [str(entry["job_id"]) for entry in json.loads(deps.store.get_text(op.items_key))]
    recorded = deps.ops.recorded_job_ids(op.operation_id)
    for job_id in listed:
        if job_id not in recorded:
            logger.warning("operation item never ran", operation_id=op.operation_id, job_id=job_id)
            item_failed(deps, op.operation_id, job_id, "its item task failed before it ran")


def finish(deps: ItemDeps, operation_id: str, *, failed: bool) -> OperationStatus:
    """The map ended: the operation's final status, written once; its typed password forgotten."""
    op = deps.ops.get_any(operation_id)
    status: OperationStatus = (
        "failed" if failed else "cancelled" if op.cancel_requested_at is not None else "completed"
    )
    counts = tally(op.matched, deps.ops.outcome_counts(operation_id))
    if not failed and counts["pending"]:
        _record_unrun(deps, op)
        counts = tally(op.matched, deps.ops.outcome_counts(operation_id))
    # Final only when every matched job's outcome is decided; otherwise (an item's write still
    # on its way as the map ends) reads go on counting the items themselves.
    settled = counts["pending"] == 0 and counts["running"] == 0
    deps.ops.finish(operation_id, status, counts if settled else None)
    if op.password_secret_ref is not None:
        deps.secrets.delete_password(op.password_secret_ref)
        deps.ops.forget_password(operation_id)
    return status
