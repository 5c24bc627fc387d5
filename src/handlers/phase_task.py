"""The body shared by the four phase handlers (one Lambda per phase, one code path)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext

from domain.observability import logger, metrics, tracer
from domain.phase_tasks import run_phase
from handlers.events import PhaseEvent
from handlers.wiring import step6_deps
from state.models import PhaseName


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_method
@metrics.log_metrics
def _handle(event: dict[str, Any], context: LambdaContext, phase: PhaseName) -> dict[str, Any]:
    parsed = parse(event=event, model=PhaseEvent)
    if parsed.phase != phase:
        raise ValueError(f"this function runs {phase}, not {parsed.phase}")
    logger.thread_safe_clear_keys()  # keys are per invocation, even when threads are reused
    logger.thread_safe_append_keys(
        job_id=parsed.job_id, phase=phase, execution=parsed.execution_arn
    )
    summary = run_phase(step6_deps(), parsed.job_id, phase, parsed.execution_arn)
    return summary.as_dict()


def handle_phase(phase: PhaseName, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result: dict[str, Any] = _handle(event, context, phase)
    return result
