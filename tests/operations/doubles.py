"""Settling functions whose answers to the operation's waiting items are lost: test doubles
for the worker processes (`ProcessLambdas.override`). The outcome is still decided and
recorded; only the SendTaskSuccess never reaches Step Functions, as when a Lambda dies between
the two."""

from __future__ import annotations

from typing import Any

from clients.task_tokens import StepFunctionsTaskTokens
from handlers import complete_run, reconcile


def _lost(self: StepFunctionsTaskTokens, token: str, output: dict[str, Any]) -> bool:
    return True  # as if sent: nothing reaches Step Functions


def complete_run_losing_answers(event: dict[str, Any], context: Any) -> Any:
    StepFunctionsTaskTokens.succeed = _lost  # type: ignore[method-assign]
    return complete_run.handler(event, context)


def reconcile_losing_answers(event: dict[str, Any], context: Any) -> Any:
    StepFunctionsTaskTokens.succeed = _lost  # type: ignore[method-assign]
    return reconcile.handler(event, context)
