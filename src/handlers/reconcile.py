"""Reconcile: EventBridge "Step Functions Execution Status Change" → the job's outcome.

Two rules feed it (template.yaml): every ended Step 6 run, settled into the job's outcome
(it also forgets the job's password once no sub-step can read it, domain.passwords); and a
Steps 1-4 (JobPipeline) run that failed, timed out or was stopped, whose step is recorded
failed if the run ended without recording it (domain.pipeline_failures).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from domain.observability import logger, metrics, tracer
from domain.outcome import ExecutionStatus
from domain.passwords import discard_spent_password
from domain.pipeline_failures import settle_ended
from domain.settlement import settle_execution
from handlers import wiring
from handlers.events import ExecutionStatusDetail
from handlers.settings import get_settings


class ExecutionStatusChange(EventBridgeModel):
    detail: ExecutionStatusDetail


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=ExecutionStatusChange)
def handler(event: ExecutionStatusChange, context: LambdaContext) -> dict[str, Any]:
    detail = event.detail
    job_id = detail.input.get("job_id")
    if not isinstance(job_id, str):
        logger.warning("status change for an execution without job_id", detail=detail.model_dump())
        return {"settled": False}
    logger.thread_safe_clear_keys()  # keys are per invocation, even when threads are reused
    logger.thread_safe_append_keys(job_id=job_id, execution=detail.executionArn)
    jobs = wiring.jobs()
    if detail.stateMachineArn == get_settings().job_pipeline_state_machine_arn:
        settle_ended(jobs, job_id, detail.executionArn, detail.status, detail.error, detail.cause)
        return {"settled": True, "pipeline": True}
    job = settle_execution(
        jobs,
        job_id,
        detail.executionArn,
        ExecutionStatus(detail.status),
        detail.cause,
        error=detail.error,
    )
    # Every finished execution passes here: the safety net that deletes a spent password (a
    # SecretStoreError fails the invocation, which is retried, then dead-lettered).
    discard_spent_password(jobs, wiring.secret_store(), job)
    return {"settled": True, "job_status": job.status.value}
