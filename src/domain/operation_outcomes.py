"""A bulk operation's item learns its job's outcome: decided once, then its token answered.

Settlement (`domain.settlement`, the one place a run's outcome is recorded: the reconciler,
CompleteRun and settle-on-read) calls `run_settled`; the item task calls `answer` for a job it
rejected, cancelled or found settled. Whoever wins the conditional write that decides the
outcome answers the task token; a second settlement or a late twin finds it decided and
answers nothing.
"""

from __future__ import annotations

from typing import Any

from clients.task_tokens import TaskTokens, default_task_tokens
from domain.observability import logger
from state.models import Job, RunRecord, StepStatus
from state.operations import ItemOutcome, OperationItem, OperationRepository
from state.repository import JobRepository


def token_output(item: OperationItem) -> dict[str, Any]:
    """What the item's task answers (small: the map keeps no per-item result)."""
    return {"job_id": item.job_id, "outcome": item.outcome, "code": item.code}


def job_outcome(job: Job) -> tuple[ItemOutcome, str | None, str | None]:
    """succeeded: the run left the job completed; failed: it needs action again."""
    if job.status == StepStatus.COMPLETED:
        return "succeeded", None, None
    failure = job.last_failure
    if failure is None:
        return "failed", None, None
    return "failed", failure.error_code.value, failure.error


def answer(
    ops: OperationRepository,
    tokens: TaskTokens,
    operation_id: str,
    job_id: str,
    outcome: ItemOutcome,
    *,
    code: str | None = None,
    reason: str | None = None,
    restaurant_name: str | None = None,
    execution_arn: str | None = None,
) -> bool:
    """Decide the item's outcome and answer its waiting task; False if already decided."""
    if not ops.decide_item(
        operation_id,
        job_id,
        outcome,
        code=code,
        reason=reason,
        restaurant_name=restaurant_name,
        execution_arn=execution_arn,
    ):
        return False
    decided = ops.get_item(operation_id, job_id)
    if decided is not None and decided.task_token:
        tokens.succeed(decided.task_token, token_output(decided))
    logger.info("operation item decided", operation_id=operation_id, job_id=job_id, outcome=outcome)
    return True


def run_settled(jobs: JobRepository, job: Job, run: RunRecord | None) -> None:
    """The job's run settled: if an operation started it, that item has its outcome now.

    Never raises: the job is settled whatever happens here, and a later read of the operation's
    item (a redriven item task) answers from the job then.
    """
    operation_id = _operation_of(jobs, run)
    if run is None or operation_id is None:
        return
    try:
        outcome, code, reason = job_outcome(job)
        answer(
            OperationRepository.beside(jobs),
            default_task_tokens(),
            operation_id,
            job.job_id,
            outcome,
            code=code,
            reason=reason,
            restaurant_name=job.restaurant.name,
            execution_arn=run.execution_arn,
        )
    except Exception:  # noqa: BLE001 - logged; the settlement itself stands
        logger.exception(
            "could not answer the operation's item", operation_id=operation_id, job_id=job.job_id
        )


def _operation_of(jobs: JobRepository, run: RunRecord | None) -> str | None:
    """The operation that started this run; a redrive's row names none, its run's does."""
    while run is not None and run.operation_id is None and run.trigger == "redrive" and run.run > 1:
        earlier = jobs.get_run(run.job_id, run.run - 1)
        if earlier is None or earlier.execution_arn != run.execution_arn:
            return None
        run = earlier
    return None if run is None else run.operation_id
