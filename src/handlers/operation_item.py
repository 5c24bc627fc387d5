"""OperationItemFunction: one job of a bulk operation (BulkOperation's map), and its end.

Thin: the event names what to do; `domain.operation_items` does it.
"""

from __future__ import annotations

from typing import Any, Literal

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from domain import operation_items
from domain.observability import logger, tracer
from handlers import wiring


class ItemEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    action: Literal["run", "item_failed", "finish"] = "run"
    operation_id: str
    job_id: str | None = None
    task_token: str | None = None
    config: dict[str, Any] = Field(default_factory=dict)
    error: dict[str, Any] | None = None
    failed: bool = False


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = ItemEvent.model_validate(event)
    logger.append_keys(operation_id=request.operation_id, job_id=request.job_id)
    deps = wiring.operation_item_deps()
    if request.action == "finish":
        return {"status": operation_items.finish(deps, request.operation_id, failed=request.failed)}
    if request.job_id is None:
        raise ValueError("an item event names its job_id")
    if request.action == "item_failed":
        error = request.error or {}
        reason = f"{error.get('Error', 'error')}: {str(error.get('Cause', ''))[:300]}"
        operation_items.item_failed(deps, request.operation_id, request.job_id, reason)
        return {}
    if not request.task_token:
        raise ValueError("a run event carries the task token")
    outcome = operation_items.run_item(
        deps, request.operation_id, request.job_id, request.task_token, request.config
    )
    return {"outcome": outcome}
