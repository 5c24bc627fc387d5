"""Phase 1 task: run what is left of phase 1 from persisted progress."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from handlers.phase_task import handle_phase


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle_phase("phase1", event, context)
