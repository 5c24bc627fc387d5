"""`handlers.task.run_task`: the shared Lambda handler of PrepareRun and CompleteRun."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from domain.observability import logger
from handlers.task import run_task
from local.lambdas import FakeLambdaContext


class Event(BaseModel):
    job_id: str
    execution_arn: str
    extra: int


def test_the_task_gets_the_parsed_event_and_logs_under_its_job_and_execution() -> None:
    seen: list[tuple[Event, dict[str, Any]]] = []

    @run_task(Event)
    def handler(event: Event) -> dict[str, Any]:
        seen.append((event, dict(logger.thread_safe_get_current_keys())))
        return {"ok": event.extra}

    event = {"job_id": "job-1", "execution_arn": "arn:exec", "extra": 3}
    assert handler(event, FakeLambdaContext(function_name="TaskFunction")) == {"ok": 3}
    [(parsed, keys)] = seen
    assert parsed == Event(job_id="job-1", execution_arn="arn:exec", extra=3)
    assert keys["job_id"] == "job-1"
    assert keys["execution"] == "arn:exec"
