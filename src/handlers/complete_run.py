"""CompleteRun task: every phase has run; settle the job as completed, delete its password."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from domain.observability import logger, metrics, tracer
from domain.phase_tasks import complete_run
from handlers import wiring
from handlers.events import CompleteRunEvent


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=CompleteRunEvent)
def handler(event: CompleteRunEvent, context: LambdaContext) -> dict[str, Any]:
    logger.thread_safe_clear_keys()  # keys are per invocation, even when threads are reused
    logger.thread_safe_append_keys(job_id=event.job_id, execution=event.execution_arn)
    return complete_run(wiring.jobs(), wiring.secret_store(), event.job_id, event.execution_arn)
