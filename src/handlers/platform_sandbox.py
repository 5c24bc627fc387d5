"""The platform sandbox (PlatformMode=sandbox): the platform's HTTP contract behind a Lambda
function URL with AWS_IAM auth (clients.platform_sandbox holds the service)."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.data_classes import LambdaFunctionUrlEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from domain.observability import logger, tracer
from handlers import wiring


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@event_source(data_class=LambdaFunctionUrlEvent)
def handler(event: LambdaFunctionUrlEvent, context: LambdaContext) -> dict[str, Any]:
    headers = {name.lower(): value for name, value in (event.headers or {}).items()}
    answer = wiring.platform_sandbox().handle(
        event.request_context.http.method,
        event.raw_path,
        event.raw_query_string,
        headers,
        (event.decoded_body or "").encode(),
    )
    return {
        "statusCode": answer.status,
        "headers": {"content-type": "application/json", **answer.headers},
        "body": json.dumps(answer.body, default=str),
    }
