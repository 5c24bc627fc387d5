"""The four Step 6 phase tasks: one module, one handler per phase.

Each phase is its own Lambda function (its own timeout, logs and metrics), and each function's
`Handler:` names its phase: `handlers.phase.phase1` ... `handlers.phase.phase4`. The phase is
thus read where the function is declared, as a literal the local runtime and the contract tests
read too; no environment variable has to agree with it. The event names its phase as well (the
state machine sends it); a function given another phase's event refuses it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext

from domain.observability import logger, metrics, tracer
from domain.phase_tasks import run_phase
from handlers import wiring
from handlers.events import PhaseEvent
from state.models import PhaseName

PhaseHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def _run(phase: PhaseName, event: dict[str, Any]) -> dict[str, Any]:
    parsed = parse(event=event, model=PhaseEvent)
    if parsed.phase != phase:
        raise ValueError(f"this function runs {phase}, not {parsed.phase}")
    logger.thread_safe_clear_keys()  # keys are per invocation, even when threads are reused
    logger.thread_safe_append_keys(
        job_id=parsed.job_id, phase=phase, execution=parsed.execution_arn
    )
    summary = run_phase(wiring.step6_deps(), parsed.job_id, phase, parsed.execution_arn)
    return summary.as_dict()


def _phase_handler(phase: PhaseName) -> PhaseHandler:
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return _run(phase, event)

    handler.__name__ = handler.__qualname__ = phase  # the trace segment's name: "## phase1"
    decorated = logger.inject_lambda_context(clear_state=True)(
        tracer.capture_lambda_handler(metrics.log_metrics(handler))
    )
    return cast(PhaseHandler, decorated)


phase1 = _phase_handler("phase1")
phase2 = _phase_handler("phase2")
phase3 = _phase_handler("phase3")
phase4 = _phase_handler("phase4")
