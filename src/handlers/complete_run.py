"""CompleteRun task: every phase has run; settle the job as completed, delete its password."""

from __future__ import annotations

from typing import Any

from domain.phase_tasks import complete_run
from handlers import wiring
from handlers.events import CompleteRunEvent
from handlers.task import run_task


@run_task(CompleteRunEvent)
def handler(event: CompleteRunEvent) -> dict[str, Any]:
    return complete_run(wiring.jobs(), wiring.secret_store(), event.job_id, event.execution_arn)
