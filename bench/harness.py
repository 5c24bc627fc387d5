"""The benchmark's view of the local runtime: the real API handler, ASL and Lambdas on moto.

`Bench` starts a `LocalRuntime`, installs the `ApiRecorder` on the default boto3 session (so
every client the handlers create reports its calls), times each in-process Lambda invocation,
and drives the application through its HTTP API handler (`handlers.api.handler`, called with
API Gateway proxy events, as in tests/api). It can hold PrepareRun invocations at a gate, so
that an API call can be measured without the executions it starts running beside it.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any, TypeVar

# Quiet and lean before the application's modules are imported: no EMF metrics on stdout.
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")

import boto3

from bench.recorder import ApiRecorder, TableShape
from clients.simulator import PlatformSimulator, shared_simulator
from local.lambdas import FakeLambdaContext
from local.runtime import TABLE_ID, LocalRuntime
from local.samples import config_data, restaurant_data
from local.server import proxy_event
from local.template import Template

T = TypeVar("T")
ORG = "org-bench"
API_FUNCTION = "ApiFunction"
PREPARE_FUNCTION = "PrepareRunFunction"


@dataclass(frozen=True)
class TimedInvocation:
    function: str
    duration_s: float
    error_type: str | None
    execution_arn: str | None


@dataclass
class Reply:
    status: int
    body: Any


@dataclass
class Bench:
    measure_sizes: bool = False
    latency_ms: int = 0
    # The table on DynamoDB Local (its endpoint) instead of moto.
    dynamodb_endpoint_url: str | None = None
    timed: list[TimedInvocation] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.template = Template.load()
        self.simulator: PlatformSimulator = shared_simulator()
        # In this process, not apart: the recorder counts (and prices) every AWS request each
        # handler makes, which it can only see from here; the requests are the same either way.
        # The runtime with the functions apart is measured by bench.serve_scale.
        self.runtime = LocalRuntime(
            env={"POWERTOOLS_LOG_LEVEL": "ERROR"},
            dynamodb_endpoint_url=self.dynamodb_endpoint_url,
            isolation="thread",
        )
        self.recorder = ApiRecorder(
            table_shape(self.template),
            measure_sizes=self.measure_sizes,
            endpoint_url=self.dynamodb_endpoint_url,
        )
        self._gate = threading.Event()
        self._gate.set()
        self._timed_lock = threading.Lock()

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> Bench:
        from domain.observability import logger

        logger.setLevel(logging.ERROR)
        self.simulator.reset()
        self.simulator.set_latency(self.latency_ms)
        self.runtime.start()
        events = boto3.DEFAULT_SESSION.events  # type: ignore[union-attr]
        self.recorder.install(events)
        self._wrap_invoke()
        return self

    def __exit__(self, *_: object) -> None:
        self._gate.set()
        try:
            self.runtime.stop()
        finally:
            self.simulator.reset()

    def _wrap_invoke(self) -> None:
        lambdas = self.runtime.lambdas
        invoke = lambdas.invoke

        def timed_invoke(function_name: str, payload: dict[str, Any]) -> tuple[Any, str | None]:
            logical_id = function_name.rsplit(":", 1)[-1]
            if logical_id == PREPARE_FUNCTION:
                self._gate.wait()
            started = time.perf_counter()
            result, error_type = invoke(function_name, payload)
            self._record(logical_id, time.perf_counter() - started, error_type, payload)
            return result, error_type

        # An instance attribute: before_invoke (the botocore hook) calls self.invoke.
        lambdas.invoke = timed_invoke  # type: ignore[method-assign]

    def _record(
        self, function: str, duration_s: float, error_type: str | None, payload: dict[str, Any]
    ) -> None:
        arn = payload.get("execution_arn")
        if arn is None and isinstance(payload.get("detail"), dict):
            arn = payload["detail"].get("executionArn")
        with self._timed_lock:
            self.timed.append(TimedInvocation(function, duration_s, error_type, arn))

    def hold_executions(self) -> None:
        """Executions started from now on wait at PrepareRun until `release_executions`."""
        self._gate.clear()

    def release_executions(self) -> None:
        self._gate.set()

    # ------------------------------------------------------------------ the API

    def api(self, method: str, path: str, body: Any = None) -> Reply:
        from handlers.api import handler

        raw = b"" if body is None else json.dumps(body).encode()
        event = proxy_event(method, path, {"Content-Type": "application/json"}, raw, ORG)
        started = time.perf_counter()
        result = handler(event, FakeLambdaContext(function_name=API_FUNCTION))
        self._record(API_FUNCTION, time.perf_counter() - started, None, {})
        text = result.get("body")
        return Reply(int(result["statusCode"]), json.loads(text) if text else None)

    def create_batch(self, names: list[str]) -> tuple[str, list[dict[str, Any]]]:
        """A batch of `names` through the API; past its per-request limit, through the domain."""
        if len(names) > max_jobs_per_request():
            from domain.onboarding import NewBatch, create_batch
            from handlers.wiring import api_deps

            request = NewBatch.model_validate(
                {"name": "Benchmark", "restaurants": [restaurant_data(n) for n in names]}
            )
            batch, jobs = create_batch(api_deps().jobs, ORG, request)
            return batch.batch_id, [
                {"job_id": j.job_id, "restaurant_name": j.restaurant.name} for j in jobs
            ]
        reply = self.api(
            "POST",
            "/registration-batches",
            {"name": "Benchmark", "restaurants": [restaurant_data(n) for n in names]},
        )
        if reply.status != 201:
            raise RuntimeError(f"create batch answered {reply.status}: {reply.body}")
        return str(reply.body["batch_id"]), list(reply.body["jobs"])

    def submit(self, batch_id: str, jobs: list[dict[str, Any]]) -> list[str]:
        """Step 5 for `jobs` (everything switched on), in as few API calls as the API allows;
        the execution ARNs of the accepted."""
        arns: list[str] = []
        for chunk in _chunks(jobs, max_jobs_per_request()):
            entries = [
                {"job_id": j["job_id"], "execution_config": config_data(j["restaurant_name"])}
                for j in chunk
            ]
            path = f"/registration-batches/{batch_id}/step-5"
            arns += self._accepted(self.api("POST", path, {"jobs": entries}), len(chunk))
        return arns

    def resume(self, batch_id: str, job_ids: list[str]) -> list[str]:
        arns: list[str] = []
        for chunk in _chunks(job_ids, max_jobs_per_request()):
            path = f"/registration-batches/{batch_id}/resume-step-6"
            arns += self._accepted(self.api("POST", path, {"job_ids": chunk}), len(chunk))
        return arns

    def job(self, job_id: str) -> dict[str, Any]:
        reply = self.api("GET", f"/registration-batches/jobs/{job_id}")
        if reply.status != 200:
            raise RuntimeError(f"GET job answered {reply.status}: {reply.body}")
        body: dict[str, Any] = reply.body
        return body

    @staticmethod
    def _accepted(reply: Reply, expected: int) -> list[str]:
        if reply.status != 202:
            raise RuntimeError(f"answered {reply.status}: {str(reply.body)[:500]}")
        accepted = [str(a["execution_arn"]) for a in reply.body["accepted"]]
        if len(accepted) != expected:
            raise RuntimeError(f"{expected - len(accepted)} rejected: {reply.body['rejected'][:3]}")
        return accepted

    # ------------------------------------------------------------------ executions

    def wait(self, arns: list[str], timeout_s: float = 3600) -> None:
        deadline = time.monotonic() + timeout_s
        for arn in arns:
            self.runtime.wait_for(arn, max(1.0, deadline - time.monotonic()))

    def describe(self, arn: str) -> dict[str, Any]:
        described: dict[str, Any] = dict(
            boto3.client("stepfunctions").describe_execution(executionArn=arn)
        )
        return described

    def duration_s(self, arn: str) -> float:
        """Execution wall time as Step Functions recorded it (start to stop)."""
        described = self.describe(arn)
        return float((described["stopDate"] - described["startDate"]).total_seconds())

    def transitions(self, arn: str) -> int:
        """Billed state transitions: every state entered, plus every retry of a task."""
        history = self.runtime.history(arn)
        entered = sum(1 for e in history if str(e["type"]).endswith("StateEntered"))
        scheduled = sum(
            1 for e in history if e["type"] in ("TaskScheduled", "LambdaFunctionScheduled")
        )
        task_states = sum(1 for e in history if e["type"] == "TaskStateEntered")
        return entered + max(0, scheduled - task_states)

    def phase_durations(self, arn: str) -> dict[str, float]:
        """Each task state's wall time (entered to exited), from the execution history."""
        entered: dict[str, Any] = {}
        durations: dict[str, float] = {}
        for event in self.runtime.history(arn):
            if "stateEnteredEventDetails" in event:
                entered[event["stateEnteredEventDetails"]["name"]] = event["timestamp"]
            elif "stateExitedEventDetails" in event:
                name = event["stateExitedEventDetails"]["name"]
                if name in entered:
                    durations[name] = (event["timestamp"] - entered[name]).total_seconds()
        return durations


def max_jobs_per_request() -> int:
    """The batch-wide calls' cap: the most jobs one of them works on (more: 422)."""
    from domain import batch_actions

    return batch_actions.batch_call_cap


def _chunks(items: list[T], size: int) -> list[list[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def table_shape(template: Template) -> TableShape:
    definition = template.table_definitions()[TABLE_ID]
    keys = tuple(k["AttributeName"] for k in definition["KeySchema"])
    projections: dict[str, tuple[str, ...] | None] = {}
    for index in definition.get("GlobalSecondaryIndexes", []):
        own_keys = tuple(k["AttributeName"] for k in index["KeySchema"])
        projection = index.get("Projection", {})
        projections[own_keys[0]] = (
            None
            if projection.get("ProjectionType", "ALL") == "ALL"
            else keys + own_keys + tuple(projection.get("NonKeyAttributes", []))
        )
    return TableShape(TABLE_ID, keys, tuple(projections), projections)


def memory_mb(template: Template, function: str) -> int:
    resource = template.body["Resources"].get(function, {})
    own = resource.get("Properties", {}).get("MemorySize")
    default = template.body.get("Globals", {}).get("Function", {}).get("MemorySize", 128)
    return int(own or default)
