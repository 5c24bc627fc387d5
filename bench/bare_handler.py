"""Cold start baseline: a Lambda handler with Powertools' Logger and nothing else."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

logger = Logger(service="bench-bare")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    logger.info("bare handler")
    return {"ok": True}
