"""PrepareRun task: claim the job for this execution and check where it starts."""

from __future__ import annotations

from typing import Any

from domain.phase_tasks import prepare_run
from handlers import wiring
from handlers.events import PrepareRunEvent
from handlers.task import run_task


@run_task(PrepareRunEvent)
def handler(event: PrepareRunEvent) -> dict[str, Any]:
    return prepare_run(wiring.jobs(), event.job_id, event.execution_arn, event.resume_from)
