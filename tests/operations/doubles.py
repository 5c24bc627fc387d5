"""Settling functions whose answers to the operation's waiting items are lost: test doubles
for the worker processes (`ProcessLambdas.override`). The outcome is still decided and
recorded; only the SendTaskSuccess never reaches Step Functions, as when a Lambda dies between
the two. And an item function that fails for one job, whatever it is asked."""

from __future__ import annotations

import os
from typing import Any

from clients.task_tokens import StepFunctionsTaskTokens
from handlers import complete_run, operation_item, reconcile


def _lost(self: StepFunctionsTaskTokens, token: str, output: dict[str, Any]) -> bool:
    return True  # as if sent: nothing reaches Step Functions


def complete_run_losing_answers(event: dict[str, Any], context: Any) -> Any:
    StepFunctionsTaskTokens.succeed = _lost  # type: ignore[method-assign]
    return complete_run.handler(event, context)


def reconcile_losing_answers(event: dict[str, Any], context: Any) -> Any:
    StepFunctionsTaskTokens.succeed = _lost  # type: ignore[method-assign]
    return reconcile.handler(event, context)


class ItemFunctionDownError(Exception):
    """The item function fails for one job (FAILING_JOB_ID) whatever it is asked."""


def item_function_down_for_one_job(event: dict[str, Any], context: Any) -> Any:
    if event.get("job_id") == os.environ["FAILING_JOB_ID"]:
        raise ItemFunctionDownError(f"the item function is down for {event['job_id']}")
    return operation_item.handler(event, context)
