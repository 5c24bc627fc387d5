"""Cold start baseline: a bare Lambda handler with what every function of ours starts from.

Powertools' Logger, Tracer and Metrics, created at import as a handler does (Tracer() loads the
X-Ray SDK), and boto3 imported (no client built). A handler module's import time over this one
(`handler_import_ratio` in bench/coldstart.py) is what our own code adds to a cold start.
"""

from __future__ import annotations

from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger(service="bench-bare")
tracer = Tracer(service="bench-bare")
metrics = Metrics(namespace="BenchBare", service="bench-bare")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    logger.info("bare handler", boto3=boto3.__version__)
    return {"ok": True}
