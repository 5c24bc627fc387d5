"""What the Step Functions tasks' Lambda handlers share (PrepareRun, CompleteRun)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar, cast

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from domain.observability import logger, metrics, tracer

TaskHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


class RunEvent(Protocol):
    @property
    def job_id(self) -> str: ...

    @property
    def execution_arn(self) -> str: ...


EventT = TypeVar("EventT", bound=BaseModel)


def run_task(model: type[EventT]) -> Callable[[Callable[[EventT], dict[str, Any]]], TaskHandler]:
    """The Lambda handler of a task of one run: the event parsed as `model` (a `RunEvent`),
    logged under its job and execution, traced and measured."""

    def decorate(task: Callable[[EventT], dict[str, Any]]) -> TaskHandler:
        @logger.inject_lambda_context(clear_state=True)
        @tracer.capture_lambda_handler
        @metrics.log_metrics
        @event_parser(model=model)
        def handler(event: EventT, context: LambdaContext) -> dict[str, Any]:
            run = cast(RunEvent, event)
            logger.thread_safe_clear_keys()  # keys are per invocation, even when threads are reused
            logger.thread_safe_append_keys(job_id=run.job_id, execution=run.execution_arn)
            return task(event)

        return cast(TaskHandler, handler)

    return decorate
