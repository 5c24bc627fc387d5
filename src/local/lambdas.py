"""Runs the template's handlers in process when Step Functions invokes a Lambda.

A botocore `before-call.lambda.Invoke` handler on the default boto3 session answers the call
itself, so moto's Step Functions engine gets the real handler's result (a public hook: no
patching of moto). A handler exception becomes `FunctionError: Unhandled`, as in AWS.

Timeouts: give a function a timeout (`timeouts[logical_id] = seconds`, e.g. lowered by a test)
and an invocation that runs longer answers as AWS does, `FunctionError: Unhandled` with
`errorType: Sandbox.Timedout`. AWS then freezes and discards the sandbox; a thread cannot be
killed, so here the handler runs on in the background (a "late" invocation) and its writes
must be refused by the same conditions that refuse any superseded execution. `wait_idle()`
waits for late invocations, and `late` records how each of them ended.
"""

from __future__ import annotations

import importlib
import io
import json
import threading
import time
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
    # time.monotonic() at which the invocation times out; None: no timeout enforced.
    deadline: float | None = None

    def get_remaining_time_in_millis(self) -> int:
        if self.deadline is None:
            return 300_000
        return max(0, int((self.deadline - time.monotonic()) * 1000))


@dataclass
class _HttpStub:
    status_code: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Invocation:
    function: str
    payload: dict[str, Any]
    error_type: str | None


TIMED_OUT = "Sandbox.Timedout"


@dataclass(frozen=True)
class LateInvocation:
    """An invocation that outlived its timeout: how its handler ended after all."""

    function: str
    payload: dict[str, Any]
    error_type: str | None
    result: Any


class Lambdas:
    """What the local runtime asks of whoever runs the functions: in this process
    (`InProcessLambdas`) or in worker processes (`local.workers.ProcessLambdas`)."""

    def __init__(self, timeouts: dict[str, float] | None = None) -> None:
        self._lock = threading.Lock()
        self.invocations: list[Invocation] = []
        # Function logical id → timeout in seconds; functions not listed have none.
        self.timeouts: dict[str, float] = dict(timeouts or {})
        self.late: list[LateInvocation] = []
        self._late_threads: list[threading.Thread] = []

    def invoke(self, function_name: str, payload: dict[str, Any]) -> tuple[Any, str | None]:
        """Run the function; return (result or error payload, error type or None)."""
        raise NotImplementedError

    def wait_idle(self, timeout_s: float = 30) -> None:
        """Wait until every invocation that timed out has finished in the background."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            threads = list(self._late_threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                raise TimeoutError(f"{thread.name} still running after {timeout_s}s")
        with self._lock:
            self._late_threads = [t for t in self._late_threads if t.is_alive()]

    def before_invoke(self, params: dict[str, Any], **_: Any) -> tuple[_HttpStub, dict[str, Any]]:
        return invoke_response(self.invoke, params)


def timed_out(request_id: str, timeout: float) -> dict[str, Any]:
    """The error payload of an invocation that outlived its function's timeout."""
    return {
        "errorType": TIMED_OUT,
        "errorMessage": (
            f"RequestId: {request_id} Error: Task timed out after {timeout:.2f} seconds"
        ),
    }


class InProcessLambdas(Lambdas):
    def __init__(self, handlers: dict[str, str], timeouts: dict[str, float] | None = None) -> None:
        super().__init__(timeouts)
        self._handlers = handlers
        self._loaded: dict[str, Handler] = {}

    def handler_for(self, function_name: str) -> Handler:
        logical_id = logical_id_of(function_name)
        with self._lock:
            if logical_id not in self._loaded:
                module_name, attr = self._handlers[logical_id].rsplit(".", 1)
                self._loaded[logical_id] = getattr(importlib.import_module(module_name), attr)
            return self._loaded[logical_id]

    def invoke(self, function_name: str, payload: dict[str, Any]) -> tuple[Any, str | None]:
        logical_id = logical_id_of(function_name)
        handler = self.handler_for(function_name)
        timeout = self.timeouts.get(logical_id)
        context = FakeLambdaContext(
            function_name=logical_id,
            invoked_function_arn=function_name,
            deadline=None if timeout is None else time.monotonic() + timeout,
        )
        if timeout is None:
            result, error_type = run_handler(handler, payload, context)
        else:
            result, error_type = self._run_with_timeout(
                logical_id, handler, payload, context, timeout
            )
        with self._lock:
            self.invocations.append(Invocation(logical_id, payload, error_type))
        return result, error_type

    def _run_with_timeout(
        self,
        logical_id: str,
        handler: Handler,
        payload: dict[str, Any],
        context: FakeLambdaContext,
        timeout: float,
    ) -> tuple[Any, str | None]:
        outcome: list[tuple[Any, str | None]] = []
        late = threading.Event()

        def target() -> None:
            result, error_type = run_handler(handler, payload, context)
            with self._lock:
                if late.is_set():
                    self.late.append(LateInvocation(logical_id, payload, error_type, result))
                else:
                    outcome.append((result, error_type))

        thread = threading.Thread(target=target, name=f"lambda-{logical_id}", daemon=True)
        with self._lock:
            self._late_threads.append(thread)
        thread.start()
        thread.join(timeout)
        with self._lock:
            if outcome:
                return outcome[0]
            late.set()  # from now on, the handler's outcome is a late one
        return timed_out(context.aws_request_id, timeout), TIMED_OUT


def logical_id_of(function_name: str) -> str:
    """The template's logical id of a function named by ARN or by that id."""
    return unquote(function_name).rsplit(":", 1)[-1]


def invoke_response(
    invoke: Callable[[str, dict[str, Any]], tuple[Any, str | None]], params: dict[str, Any]
) -> tuple[_HttpStub, dict[str, Any]]:
    """Answer a botocore Lambda Invoke request (`before-call` params) with `invoke`'s outcome."""
    # `params` is botocore's request dict: the function is in the path, the payload the body.
    function_name = unquote(params["url_path"].split("/functions/", 1)[1].split("/", 1)[0])
    raw = params.get("body") or b"{}"
    payload = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
    result, error_type = invoke(function_name, payload)
    body = json.dumps(result, default=str).encode()
    parsed: dict[str, Any] = {
        "StatusCode": 200,
        "ExecutedVersion": "$LATEST",
        "Payload": StreamingBody(io.BytesIO(body), len(body)),
    }
    if error_type is not None:
        parsed["FunctionError"] = "Unhandled"
    return _HttpStub(), parsed


def run_handler(
    handler: Handler, payload: dict[str, Any], context: FakeLambdaContext
) -> tuple[Any, str | None]:
    try:
        return handler(payload, context), None
    except SimulatedCrash as crash:
        # The process died: AWS reports it as Runtime.ExitError.
        return {"errorType": "Runtime.ExitError", "errorMessage": str(crash)}, "Runtime.ExitError"
    except Exception as error:  # noqa: BLE001 - becomes the Lambda's FunctionError
        error_type = type(error).__name__
        return {
            "errorType": error_type,
            "errorMessage": str(error),
            "stackTrace": traceback.format_exception(error)[-5:],
        }, error_type
