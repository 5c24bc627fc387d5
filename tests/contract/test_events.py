"""events/*.json (for `sam local invoke`) are events their functions would accept.

Each sample belongs to the function in template.yaml whose handler module it is named after
(`phase2.json` → `handlers.phase.phase2`, `api-*.json` → `handlers.api.handler`), and is
checked against what the code and the template declare, never against a copy kept here:

* Step Functions task payloads: parsed by the handler's own model (Powertools `parse`, as the
  handler does); their keys are ones that model reads and that the state machine's Payload for
  that function sends; constants (the phase) are the ASL's; the execution ARN names the run
  as `domain.claims.execution_name` does; the execution input routes in the ASL's Choice.
* The EventBridge event: parsed by the reconcile handler's own model and matched by the
  function's EventBridge rule in template.yaml.
* Function URL events (the platform sandbox): parsed by Powertools' `LambdaFunctionUrlModel`;
  the path is an operation of the platform's contract (or the fault drills), signed with
  SigV4 for the `lambda` service (the URL's AWS_IAM auth), and a POST's body and headers are
  what the contract asks of that operation. tests/unit/test_platform_sandbox.py runs it
  through the handler.
* API Gateway proxy events: parsed by Powertools' `APIGatewayProxyEventModel`; method and
  resource are a route of docs/openapi.json (the document generated from the API's routes);
  path parameters satisfy the document's schemas; a body validates against the request
  model the document names. tests/api/test_server.py also sends each one through
  `handlers.api.handler` on the local runtime.

A corrupted copy of each kind of sample fails (the negative cases at the end).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayProxyEventModel,
    LambdaFunctionUrlModel,
)
from pydantic import BaseModel, ValidationError
from tools.cfn_template import REPO_ROOT, functions, load_template

from clients.platform_sandbox import FAULTS_PATH
from clients.platform_service import OPERATIONS
from domain.claims import execution_name
from handlers import api_models, api_operation_models
from handlers.api import ORG_CLAIM
from handlers.events import (
    CompleteRunEvent,
    PhaseEvent,
    PipelineFailedEvent,
    PipelineStepEvent,
    PrepareRunEvent,
)
from handlers.operation_item import ItemEvent
from handlers.reconcile import ExecutionStatusChange
from local.openapi import OPENAPI_PATH
from local.template import Template, function_arn, substitution_value

EVENTS = REPO_ROOT / "events"
STATE_MACHINE = "Step6StateMachine"
REGION = "us-east-1"
LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"

# The model each handler parses its event with (as its `event_parser` / `parse` call does).
STEP_FUNCTIONS_MODELS: dict[str, type[BaseModel]] = {
    "handlers.prepare_run.handler": PrepareRunEvent,
    "handlers.phase.phase1": PhaseEvent,
    "handlers.phase.phase2": PhaseEvent,
    "handlers.phase.phase3": PhaseEvent,
    "handlers.phase.phase4": PhaseEvent,
    "handlers.complete_run.handler": CompleteRunEvent,
}
# The JobPipeline's tasks (Steps 1-4).
PIPELINE_MODELS: dict[str, type[BaseModel]] = {
    "handlers.pipeline_steps.step1": PipelineStepEvent,
    "handlers.pipeline_steps.step2": PipelineStepEvent,
    "handlers.pipeline_steps.step3": PipelineStepEvent,
    "handlers.pipeline_steps.step4": PipelineStepEvent,
    "handlers.pipeline_steps.failed": PipelineFailedEvent,
}
EVENTBRIDGE_HANDLER = "handlers.reconcile.handler"
OPERATION_ITEM_HANDLER = "handlers.operation_item.handler"
API_HANDLER = "handlers.api.handler"
SANDBOX_HANDLER = "handlers.platform_sandbox.handler"


@dataclass(frozen=True)
class Sample:
    file: str
    logical_id: str
    handler: str


def _function_of(file: str) -> Sample:
    """The function a sample is for: `<module>.json` or `<module>-<anything>.json` for a
    module's `handler`, `<function>.json` for a module of several (handlers.phase.phase1)."""
    name = file.removesuffix(".json").split("-")[0]
    owners = [
        (logical_id, resource["Properties"]["Handler"])
        for logical_id, resource in functions(load_template()).items()
        if resource["Properties"]["Handler"] == f"handlers.{name}.handler"
        or resource["Properties"]["Handler"].endswith(f".{name}")
    ]
    assert len(owners) == 1, f"events/{file} is for no function of template.yaml: {owners}"
    return Sample(file, *owners[0])


SAMPLE_FILES = sorted(p.name for p in EVENTS.glob("*.json"))


def _load(file: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EVENTS / file).read_text(encoding="utf-8"))
    return data


# ---------------------------------------------------------------------- what the code declares


@cache
def _task_payloads() -> dict[str, dict[str, Any]]:
    """Function logical id → the Payload template of the Task state that invokes it."""
    definition = json.loads(Template.load().state_machine_definition(STATE_MACHINE, REGION))
    arns = {function_arn(f, REGION): f for f in functions(load_template())}
    payloads = {}
    for state in definition["States"].values():
        if state.get("Type") == "Task" and state.get("Resource") == LAMBDA_INVOKE:
            payloads[arns[state["Parameters"]["FunctionName"]]] = state["Parameters"]["Payload"]
    return payloads


@cache
def _resume_points() -> set[str | None]:
    """resume_from values the state machine's Choice routes (None: the Default, phase 1)."""
    definition = json.loads(Template.load().state_machine_definition(STATE_MACHINE, REGION))
    points: set[str | None] = {None}
    for state in definition["States"].values():
        for choice in state.get("Choices", []):
            for rule in choice.get("And", [choice]):
                if rule.get("Variable") == "$.resume_from" and "StringEquals" in rule:
                    points.add(rule["StringEquals"])
    return points


@cache
def _openapi() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
    return document


def _reconcile_rule() -> dict[str, Any]:
    template = load_template()
    events = template["Resources"]["ReconcileFunction"]["Properties"]["Events"]
    rule = events["Step6ExecutionEnded"]  # the sample is a Step 6 run's end
    pattern: dict[str, Any] = copy.deepcopy(rule["Properties"]["Pattern"])
    pattern["detail"]["stateMachineArn"] = [
        substitution_value(template, arn, REGION) for arn in pattern["detail"]["stateMachineArn"]
    ]
    return pattern


# ---------------------------------------------------------------------- the checks


def _parsed(event: dict[str, Any], model: type[BaseModel], problems: list[str]) -> Any:
    try:
        return parse(event=event, model=model)
    except ValidationError as error:
        problems.append(f"{model.__name__} rejects it: {error}")
        return None


def _check_execution(arn: Any, job_id: Any, problems: list[str]) -> None:
    """An execution ARN of the state machine, named for this job as start_run names runs."""
    prefix = substitution_value(load_template(), {"Ref": STATE_MACHINE}, REGION).replace(
        ":stateMachine:", ":execution:"
    )
    name = str(arn).removeprefix(prefix + ":")
    run = re.fullmatch(r".*-run-(\d+)", name)
    if not str(arn).startswith(prefix + ":") or run is None:
        problems.append(f"{arn!r} is no execution ARN of {STATE_MACHINE}")
    elif name != execution_name(str(job_id), int(run.group(1))):
        problems.append(f"execution {name!r} is not named as runs of job {job_id} are")


def _check_execution_input(data: Any, problems: list[str]) -> str | None:
    if not isinstance(data, dict) or not isinstance(data.get("job_id"), str):
        problems.append(f"execution input without a job_id: {data!r}")
        return None
    if data.get("resume_from") not in _resume_points():
        problems.append(f"resume_from {data.get('resume_from')!r} is routed by no Choice")
    return str(data["job_id"])


def _step_functions_problems(sample: Sample, event: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    model = STEP_FUNCTIONS_MODELS[sample.handler]
    payload = _task_payloads().get(sample.logical_id)
    if payload is None:
        return [f"no Task state of {STATE_MACHINE} invokes {sample.logical_id}"]
    sent = {key.removesuffix(".$") for key in payload}
    read = set(model.model_fields)
    required = {name for name, field in model.model_fields.items() if field.is_required()}
    if unknown := set(event) - (sent & read):
        problems.append(
            f"keys the state machine does not send or {model.__name__} does not read: "
            f"{sorted(unknown)}"
        )
    if missing := required - set(event):
        problems.append(f"keys {model.__name__} requires are missing: {sorted(missing)}")
    for key, value in payload.items():
        if not key.endswith(".$") and key in event and event[key] != value:
            problems.append(f"{key} is {event[key]!r}; the state machine sends {value!r}")
    parsed = _parsed(event, model, problems)
    if parsed is None:
        return problems
    if isinstance(parsed, PrepareRunEvent):
        job_id = _check_execution_input(parsed.input, problems)
    else:
        job_id = parsed.job_id
    _check_execution(parsed.execution_arn, job_id, problems)
    return problems


def _eventbridge_problems(event: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    pattern = _reconcile_rule()
    if event.get("source") not in pattern["source"]:
        problems.append(f"source {event.get('source')!r} is not the rule's {pattern['source']}")
    if event.get("detail-type") not in pattern["detail-type"]:
        problems.append(f"detail-type {event.get('detail-type')!r} is not the rule's")
    detail = event.get("detail") or {}
    for key in ("status", "stateMachineArn"):
        if detail.get(key) not in pattern["detail"][key]:
            problems.append(f"detail.{key} {detail.get(key)!r} is not in the rule's pattern")
    parsed = _parsed(event, ExecutionStatusChange, problems)
    if parsed is not None:
        job_id = _check_execution_input(parsed.detail.input, problems)
        _check_execution(parsed.detail.executionArn, job_id, problems)
    return problems


def _string_schema_breaches(value: str, schema: dict[str, Any]) -> list[str]:
    """The string keywords the document uses for path parameters (no jsonschema here)."""
    unknown = set(schema) - {"type", "title", "pattern", "minLength", "maxLength"}
    assert not unknown, f"a path parameter schema uses {unknown}: teach this test about it"
    breaches = []
    if schema.get("type", "string") != "string":
        breaches.append(f"type {schema['type']}")
    if "pattern" in schema and re.search(schema["pattern"], value) is None:
        breaches.append(f"pattern {schema['pattern']}")
    if len(value) < schema.get("minLength", 0):
        breaches.append(f"minLength {schema['minLength']}")
    if len(value) > schema.get("maxLength", len(value)):
        breaches.append(f"maxLength {schema['maxLength']}")
    return breaches


def _parsed_problems(
    event: dict[str, Any], model: type[BaseModel], check: Callable[[Any], list[str]]
) -> list[str]:
    """What the model rejects in the event; once it parses, what `check` finds in it."""
    problems: list[str] = []
    parsed = _parsed(event, model, problems)
    return problems if parsed is None else check(parsed)


def _function_url_problems(parsed: Any) -> list[str]:
    """`parsed`: the event as a LambdaFunctionUrlModel."""
    problems: list[str] = []
    path, method = parsed.rawPath, parsed.requestContext.http.method
    operation = path.removeprefix("/v1/")
    read = path == FAULTS_PATH or (method, path) == ("GET", "/v1/accounts")
    if not read and (method != "POST" or operation not in OPERATIONS):
        return [f"{method} {path} is no operation of the platform's contract"]
    headers = {k.lower(): v for k, v in parsed.headers.items()}
    if not re.match(
        r"AWS4-HMAC-SHA256 Credential=[^/]+/\d{8}/[a-z0-9-]+/lambda/aws4_request",
        (headers.get("authorization", "")),
    ):
        problems.append("not signed with SigV4 for lambda: the function URL answers 403")
    if method == "POST" and operation in OPERATIONS:
        body = json.loads(parsed.body or "{}")
        context = body.pop("context", {})
        if set(body) != set(OPERATIONS[operation]):
            problems.append(f"{operation} takes {OPERATIONS[operation]}, not {sorted(body)}")
        key = f"{context.get('job_id')}:{context.get('sub_step')}"
        if headers.get("idempotency-key") != key:
            problems.append(f"Idempotency-Key is not {key!r}")
        if (headers.get("x-job-id"), headers.get("x-sub-step")) != (
            context.get("job_id"),
            context.get("sub_step"),
        ):
            problems.append("X-Job-Id / X-Sub-Step do not name the body's context")
    return problems


def _api_problems(parsed: Any, event: dict[str, Any]) -> list[str]:
    """`parsed`: the `event` as an APIGatewayProxyEventModel."""
    problems: list[str] = []
    method, resource = parsed.httpMethod, parsed.resource
    operation = _openapi()["paths"].get(resource, {}).get(method.lower())
    if operation is None:
        return [f"{method} {resource} is no route of {OPENAPI_PATH.name}"]
    context = parsed.requestContext
    if (context.httpMethod, context.resourcePath) != (method, resource):
        problems.append("requestContext names another route than the event")
    params = parsed.pathParameters or {}
    declared = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "path"}
    if set(params) != set(declared):
        problems.append(f"pathParameters {sorted(params)} are not the route's {sorted(declared)}")
    for name, value in params.items():
        if broken := _string_schema_breaches(value, declared.get(name, {}).get("schema", {})):
            problems.append(f"path parameter {name}={value!r} breaks its schema: {broken}")
    filled = re.sub(r"\{(\w+)\}", lambda m: str(params.get(m.group(1), m.group(0))), resource)
    if parsed.path != filled:
        problems.append(f"path {parsed.path!r} is not {resource!r} with its parameters")
    claims = ((event.get("requestContext") or {}).get("authorizer") or {}).get("claims") or {}
    if not claims.get(ORG_CLAIM):  # where API Gateway's Cognito authorizer puts them
        problems.append(f"no {ORG_CLAIM} claim: the API answers 401")
    schema = (
        (operation.get("requestBody") or {})
        .get("content", {})
        .get("application/json", {})
        .get("schema", {})
        .get("$ref")
    )
    if schema is not None:
        name = schema.rsplit("/", 1)[-1]
        body_model: type[BaseModel] = getattr(
            api_models, name, getattr(api_operation_models, name, None)
        )
        try:
            body_model.model_validate_json(parsed.body or "")
        except ValidationError as error:
            problems.append(f"body is no {body_model.__name__}: {error}")
    elif parsed.body is not None:
        try:
            json.loads(parsed.body)
        except ValueError:
            problems.append("body is not JSON (the API answers 415)")
    return problems


def problems_of(file: str, event: dict[str, Any]) -> list[str]:
    sample = _function_of(file)
    if sample.handler in STEP_FUNCTIONS_MODELS:
        return _step_functions_problems(sample, event)
    if sample.handler == EVENTBRIDGE_HANDLER:
        return _eventbridge_problems(event)
    if sample.handler == API_HANDLER:
        return _parsed_problems(
            event, APIGatewayProxyEventModel, lambda parsed: _api_problems(parsed, event)
        )
    if sample.handler == SANDBOX_HANDLER:
        return _parsed_problems(event, LambdaFunctionUrlModel, _function_url_problems)
    if sample.handler == OPERATION_ITEM_HANDLER:
        return _operation_item_problems(event)
    if sample.handler in PIPELINE_MODELS:
        return _pipeline_problems(sample, event)
    return [f"{sample.handler}: this test knows no event model for it; add one"]


def _pipeline_problems(sample: Sample, event: dict[str, Any]) -> list[str]:
    """A JobPipeline task's payload: the keys its Task sends, as its handler's model reads them,
    with an execution ARN of the JobPipeline."""
    problems: list[str] = []
    definition = json.loads((REPO_ROOT / "statemachine/job_pipeline.asl.json").read_text())
    substitution = "${" + sample.logical_id + "Arn}"
    payloads = [
        state["Parameters"]["Payload"]
        for state in definition["States"].values()
        if state.get("Type") == "Task" and state["Parameters"]["FunctionName"] == substitution
    ]
    if len(payloads) != 1:
        return [f"{sample.logical_id} is invoked by {len(payloads)} tasks of the JobPipeline"]
    sent = {key.removesuffix(".$") for key in payloads[0]}
    if unknown := set(event) - sent:
        problems.append(f"keys the state machine does not send: {sorted(unknown)}")
    if missing := sent - set(event):
        problems.append(f"keys the state machine sends that the sample lacks: {sorted(missing)}")
    if ":execution:JobPipelineStateMachine:" not in str(event.get("execution_arn")):
        problems.append("execution_arn is not an execution of the JobPipeline")
    _parsed(event, PIPELINE_MODELS[sample.handler], problems)
    return problems


def _operation_item_problems(event: dict[str, Any]) -> list[str]:
    """The item task's payload: the keys BulkOperation's RunJob sends, as ItemEvent reads them."""
    problems: list[str] = []
    definition = json.loads((REPO_ROOT / "statemachine/bulk_operation.asl.json").read_text())
    run_job = definition["States"]["RunJobs"]["ItemProcessor"]["States"]["RunJob"]
    payload = run_job["Parameters"]["Payload"]
    sent = {key.removesuffix(".$") for key in payload}
    if unknown := set(event) - sent:
        problems.append(f"keys the state machine does not send: {sorted(unknown)}")
    if event.get("action") != payload["action"]:
        problems.append(f"action is {event.get('action')!r}; RunJob sends {payload['action']!r}")
    _parsed(event, ItemEvent, problems)
    return problems


# ---------------------------------------------------------------------- the samples


def test_every_function_has_a_sample_and_every_sample_a_function() -> None:
    covered = {_function_of(file).logical_id for file in SAMPLE_FILES}
    assert covered == set(functions(load_template()))


def test_the_samples_cover_every_route_and_every_task() -> None:
    routes = {
        (event["httpMethod"], event["resource"])
        for event in map(_load, SAMPLE_FILES)
        if "httpMethod" in event
    }
    documented = {
        (method.upper(), path) for path, item in _openapi()["paths"].items() for method in item
    }
    assert routes == documented
    tasks = {_function_of(f).logical_id for f in SAMPLE_FILES}
    assert set(_task_payloads()) <= tasks


@pytest.mark.parametrize("file", SAMPLE_FILES)
def test_the_sample_is_an_event_its_function_accepts(file: str) -> None:
    assert problems_of(file, _load(file)) == []


# ---------------------------------------------------------------------- a drifted sample fails

Corruption = Callable[[dict[str, Any]], None]


def _set(*path: str, value: Any) -> Corruption:
    def corrupt(event: dict[str, Any]) -> None:
        target = event
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return corrupt


def _drop(*path: str) -> Corruption:
    def corrupt(event: dict[str, Any]) -> None:
        target = event
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return corrupt


SANDBOX_SAMPLE = "platform_sandbox-create-onboarding-user.json"
DRIFTS: list[tuple[str, Corruption, str]] = [
    ("prepare_run.json", _drop("execution_arn"), "requires are missing"),
    ("prepare_run.json", _set("execution_id", value="x"), "does not send"),
    ("prepare_run.json", _drop("input", "job_id"), "without a job_id"),
    ("prepare_run.json", _set("input", "resume_from", value="phase1"), "routed by no Choice"),
    ("phase2.json", _set("phase", value="phase3"), "the state machine sends 'phase2'"),
    ("phase2.json", _set("phase", value="phase5"), "PhaseEvent rejects it"),
    ("phase2.json", _set("job_id", value="another-job"), "not named as runs of job"),
    ("complete_run.json", _set("execution_arn", value="arn:aws:lambda:x"), "no execution ARN"),
    ("reconcile.json", _set("detail", "status", value="RUNNING"), "detail.status"),
    ("reconcile.json", _set("detail", "input", value="{not json"), "rejects it"),
    ("reconcile.json", _drop("detail", "executionArn"), "ExecutionStatusChange rejects it"),
    ("api-get-job.json", _set("resource", value="/registration-batches/job/{jobId}"), "no route"),
    ("api-get-job.json", _set("httpMethod", value="DELETE"), "no route"),
    ("api-get-job.json", _set("path", value="/registration-batches/jobs/x"), "with its param"),
    ("api-get-job.json", _set("pathParameters", "jobId", value="a/b"), "path parameter jobId"),
    ("api-get-job.json", _drop("requestContext", "authorizer"), "claim"),
    ("api-submit-step5.json", _set("body", value='{"jobs": "all"}'), "no Step5Request"),
    ("api-create-batch.json", _drop("requestContext", "requestTime"), "EventModel rejects"),
    (SANDBOX_SAMPLE, _set("rawPath", value="/v1/create_user"), "no operation"),
    (SANDBOX_SAMPLE, _set("headers", "authorization", value="Bearer k"), "answers 403"),
    (SANDBOX_SAMPLE, _set("headers", "idempotency-key", value="job:x"), "Idempotency-Key"),
    (SANDBOX_SAMPLE, _set("body", value='{"email": "a@b.example"}'), "takes"),
    (SANDBOX_SAMPLE, _drop("requestContext", "http"), "UrlModel rejects"),
]


@pytest.mark.parametrize(
    ("file", "corrupt", "expected"),
    DRIFTS,
    ids=[f"{file}-{expected}" for file, _, expected in DRIFTS],
)
def test_a_drifted_copy_of_a_sample_fails(file: str, corrupt: Corruption, expected: str) -> None:
    event = _load(file)
    corrupt(event)
    found = problems_of(file, event)
    assert any(expected in problem for problem in found), found
