"""Runs the template's handlers in process when Step Functions invokes a Lambda.

A botocore `before-call.lambda.Invoke` handler on the default boto3 session answers the call
itself, so moto's Step Functions engine gets the real handler's result (a public hook: no
patching of moto). A handler exception becomes `FunctionError: Unhandled`, as in AWS.
"""

from __future__ import annotations

import importlib
import io
import json
import threading
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from botocore.response import StreamingBody

from clients.simulator import SimulatedCrash

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class FakeLambdaContext:
    function_name: str
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    invoked_function_arn: str = ""
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = ""

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


@dataclass
class _HttpStub:
    status_code: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Invocation:
    function: str
    payload: dict[str, Any]
    error_type: str | None


class InProcessLambdas:
    def __init__(self, handlers: dict[str, str]) -> None:
        self._handlers = handlers
        self._loaded: dict[str, Handler] = {}
        self._lock = threading.Lock()
        self.invocations: list[Invocation] = []

    def handler_for(self, function_name: str) -> Handler:
        logical_id = function_name.rsplit(":", 1)[-1]
        with self._lock:
            if logical_id not in self._loaded:
                module_name, attr = self._handlers[logical_id].rsplit(".", 1)
                self._loaded[logical_id] = getattr(importlib.import_module(module_name), attr)
            return self._loaded[logical_id]

    def invoke(self, function_name: str, payload: dict[str, Any]) -> tuple[Any, str | None]:
        """Run the handler; return (result or error payload, error type or None)."""
        logical_id = function_name.rsplit(":", 1)[-1]
        handler = self.handler_for(function_name)
        context = FakeLambdaContext(function_name=logical_id, invoked_function_arn=function_name)
        error_type: str | None = None
        try:
            result = handler(payload, context)
        except SimulatedCrash as crash:
            # The process died: AWS reports it as Runtime.ExitError.
            error_type = "Runtime.ExitError"
            result = {"errorType": error_type, "errorMessage": str(crash)}
        except Exception as error:  # noqa: BLE001 - becomes the Lambda's FunctionError
            error_type = type(error).__name__
            result = {
                "errorType": error_type,
                "errorMessage": str(error),
                "stackTrace": traceback.format_exception(error)[-5:],
            }
        with self._lock:
            self.invocations.append(Invocation(logical_id, payload, error_type))
        return result, error_type

    def before_invoke(self, params: dict[str, Any], **_: Any) -> tuple[_HttpStub, dict[str, Any]]:
        # `params` is botocore's request dict: the function is in the path, the payload the body.
        function_name = unquote(params["url_path"].split("/functions/", 1)[1].split("/", 1)[0])
        raw = params.get("body") or b"{}"
        payload = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
        result, error_type = self.invoke(function_name, payload)
        body = json.dumps(result, default=str).encode()
        parsed: dict[str, Any] = {
            "StatusCode": 200,
            "ExecutedVersion": "$LATEST",
            "Payload": StreamingBody(io.BytesIO(body), len(body)),
        }
        if error_type is not None:
            parsed["FunctionError"] = "Unhandled"
        return _HttpStub(), parsed
