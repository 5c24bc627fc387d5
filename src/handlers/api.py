"""The registration batches HTTP API (API Gateway REST, Powertools resolver).

Thin: each route parses its input (pydantic, via `enable_validation`), calls one use case of
`domain`, and returns a response model. Domain errors become HTTP answers in one place, the
exception handlers below:

====================================  ======  =========================================
NotFoundError (or another org's)      404     `not_found`
ConflictError, a run is active        409     `already_running`, with `active_execution`
                                              (the code batch rejections use)
ConflictError, the job changed        409     `conflict` (a write lost the race; try again)
NotResumableError                     409     `not_resumable`
StepAlreadyCompletedError             409     `step5_completed` (the state forbids it; the
                                              request itself is well formed, so not 422)
STATE_CONFLICTS (operator actions)    409     `not_running`, `not_rerunnable`,
                                              `not_completed`, `blocking_sub_step`,
                                              `not_failed`, `step5_not_completed`,
                                              `steps_pending`, `step_not_failed`,
                                              `not_waiting` (Steps 1-4)
ConfigInUseError                      409     `config_in_use`, `fields[].used_by`
InvalidRequestError (domain rule)     422     `validation_error`, naming the field
RequestValidationError (schema)       422     `validation_error`, naming each field
MalformedBodyError (`parse_body`)     422     `validation_error`, naming the field `body`
ExecutionStartError                   503     `start_failed` (the claim was handed back, or
                                              for Steps 1-4 the step recorded failed)
TransientRegisterError                503     `register_unavailable` (Step 3's number check)
RegisterError (refused, malformed)    502     `register_rejected`
ExecutionStopError                    503     `stop_failed`
SecretStoreError                      503     `password_store_unavailable` (KMS refused to
                                              encrypt the password; nothing was stored)
ItemTooLargeError                     413     `too_large` (a restaurant's data over its limit)
====================================  ======  =========================================

Before routing, in the entry point and nowhere else: no `custom:org_id` claim (the Cognito
authorizer's) answers 401 (API Gateway's authorizer normally stops such a request earlier); a
body that is not JSON answers 415, one that is not UTF-8 answers 422. A body the resolver
cannot read (`parse_body`: bad syntax, nested too deep, a number too long, NaN, a key twice, a
lone surrogate) answers 422 `validation_error` naming the field `body`, never a 5xx.

The org read there is the request's caller: routes get it from `caller_org()`, which reads
what the entry point stored for this request.

Import cost: only what a request needs is imported with this module. The OpenAPI document's
models (`openapi_document`, used by `make openapi` and its test) are imported when it is built;
repositories and boto3 clients are built on the first request (`handlers.wiring`).
"""

from __future__ import annotations

import base64
import json
import os
import re
import threading
from collections.abc import Sequence
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from clients.executions import ExecutionStartError, ExecutionStopError
from clients.registers import RegisterError, TransientRegisterError
from clients.secrets import SecretStoreError
from domain import batch_actions, errors, operator_actions, reads, runs, search
from domain.observability import logger, tracer
from domain.onboarding import RESTAURANT_FORMS, create_batch
from domain.outcome import batch_status
from handlers import wiring
from handlers.api_models import (
    BatchList,
    BatchView,
    CancelledRun,
    ConfigAmendment,
    CreateBatchRequest,
    CreatedBatch,
    ErrorBody,
    EventList,
    FailureList,
    FieldError,
    JobList,
    JobView,
    RerunRequest,
    RerunStarted,
    ResumeBatchRequest,
    RunList,
    SettledJobs,
    SkipRequest,
    StartedJob,
    Step5Request,
)
from handlers.api_operations import router as operations_router
from handlers.api_pipeline import router as pipeline_router
from state.errors import ConflictError, ItemTooLargeError, NotFoundError

ORG_CLAIM = "custom:org_id"
CALLER_ORG = "caller_org"  # the key of the caller's org in the resolver's per-request context
CALLER_ACTOR = "caller_actor"
API_TITLE = "Pumpd onboarding: registration batches"
API_VERSION = "1.0.0"
CORS_HEADERS = ["Authorization", "Content-Type"]
BODY_METHODS = ("POST", "PUT", "PATCH")

CORS_ORIGIN = os.environ.get("CORS_ALLOW_ORIGIN", "*")

# A legitimate body nests about ten levels (restaurants, menu, categories, items, option sets,
# options); the deepest JSON the API reads.
MAX_BODY_DEPTH = 32
_SURROGATE = re.compile("[\ud800-\udfff]")


class MalformedBodyError(ValueError):
    """The request body is not JSON this API reads (answered 422 naming `body`)."""


def _no_constant(name: str) -> Any:
    raise MalformedBodyError(f"{name} is not a JSON value")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise MalformedBodyError(f"the key {key!r} appears more than once in an object")
        found[key] = value
    return found


def _check_shape(value: Any) -> None:
    """Depth and strings of a parsed body, without recursion."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if not item.isascii() and _SURROGATE.search(item):
                raise MalformedBodyError("a string holds a lone surrogate (not UTF-8 text)")
        elif isinstance(item, dict | list):
            if depth > MAX_BODY_DEPTH:
                raise MalformedBodyError(f"it nests deeper than {MAX_BODY_DEPTH} levels")
            if isinstance(item, dict):
                stack.extend((key, depth) for key in item)
                stack.extend((v, depth + 1) for v in item.values())
            else:
                stack.extend((v, depth + 1) for v in item)


def parse_body(text: str) -> Any:
    """The request body as JSON, or MalformedBodyError: every way of failing is one error."""
    try:
        value = json.loads(text, parse_constant=_no_constant, object_pairs_hook=_object)
    except RecursionError:
        raise MalformedBodyError(f"it nests deeper than {MAX_BODY_DEPTH} levels") from None
    except json.JSONDecodeError as error:
        raise MalformedBodyError(
            f"{error.msg} (line {error.lineno}, column {error.colno})"
        ) from None
    except MalformedBodyError:
        raise
    except ValueError:  # an integer beyond Python's digit limit (sys.get_int_max_str_digits)
        raise MalformedBodyError("a number has too many digits") from None
    _check_shape(value)
    return value


app = APIGatewayRestResolver(
    enable_validation=True,
    json_body_deserializer=parse_body,
    # A response that breaks its own schema is our bug: 500, never a misleading 422.
    response_validation_error_http_code=HTTPStatus.INTERNAL_SERVER_ERROR,
    cors=CORSConfig(allow_origin=CORS_ORIGIN, allow_headers=CORS_HEADERS),
)
app.include_router(operations_router)  # /operations (§13)
app.include_router(pipeline_router)  # Steps 1-4 (§14)

IdPath = Path(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")
BatchId = Annotated[str, IdPath]
JobIdParam = Annotated[str, IdPath]
SubStepParam = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z]+$")]


def _ok(model: type[BaseModel], description: str) -> OpenAPIResponse:
    return {"description": description, "content": {"application/json": {"model": model}}}


def _error(description: str) -> OpenAPIResponse:
    return _ok(ErrorBody, description)


# Refused before the route: a malformed request (the URL, two credentials), no org.
REFUSED: dict[int, OpenAPIResponse] = {
    400: _error("A malformed request: the URL, or more than one credential"),
    401: _error("No org in the caller's credentials"),
}
NOT_FOUND: dict[int, OpenAPIResponse] = {404: _error("No such batch or job in the caller's org")}
JSON_ONLY: dict[int, OpenAPIResponse] = {415: _error("The body is not application/json")}
INVALID: dict[int, OpenAPIResponse] = {422: _error("Invalid input; names each field")}


def _answers(
    status: int,
    ok: OpenAPIResponse,
    *,
    conflict: str | None = None,
    body: bool = False,
    unavailable: str | None = None,
) -> dict[int, OpenAPIResponse]:
    """The answers of a route on one of the org's jobs or batches: `ok`, the refusals every
    such route has, and the 409 / 415 / 503 it may add."""
    answers: dict[int, OpenAPIResponse] = {status: ok, **REFUSED, **NOT_FOUND, **INVALID}
    if conflict is not None:
        answers[409] = _error(conflict)
    if body:
        answers |= JSON_ONLY
    if unavailable is not None:
        answers[503] = _error(unavailable)
    return answers


def caller_actor() -> str:
    """Who makes this request (audited): the ID token's email, else its user name."""
    actor = app.context.get(CALLER_ACTOR)
    return actor if isinstance(actor, str) else "unknown"


def caller_org() -> str:
    """The caller's org, as the entry point read it from this request's claims."""
    org = app.context.get(CALLER_ORG)
    if not isinstance(org, str):  # only `handler` routes, and it stores the org first
        raise PermissionError("no caller org for this request")
    return org


# ---------------------------------------------------------------------- routes


@app.post(
    "/registration-batches",
    summary="Create a batch, one job per restaurant (whole, or by its website: Steps 1-4 run)",
    status_code=201,
    responses={
        201: _ok(
            CreatedBatch,
            "The batch and its jobs: waiting at Step 5, or at Step 1 for those given by website",
        ),
        **REFUSED,
        413: _error("A restaurant's data is over the job size limit"),
        **INVALID,
        **JSON_ONLY,
    },
)
def post_batch(request: CreateBatchRequest) -> CreatedBatch:
    batch, jobs = create_batch(
        wiring.api_deps().jobs,
        caller_org(),
        request,
        pipelines=wiring.pipeline_api_deps(),
        actor=caller_actor(),
    )
    return CreatedBatch.of(batch, batch_status(batch.job_counts), jobs)


@app.get(
    "/registration-batches",
    summary="The org's batches, newest first, a page at a time",
    responses={
        200: _ok(BatchList, "A page of the org's batches"),
        **REFUSED,
        422: _error("validation_error: a limit out of range or a cursor of another query"),
    },
)
def get_batches(
    cursor: Annotated[str | None, Query(max_length=2_000)] = None,
    limit: Annotated[int, Query(ge=1, le=search.MAX_BATCH_PAGE)] = search.DEFAULT_BATCH_PAGE,
) -> BatchList:
    found, following = search.list_batches(
        wiring.api_deps().jobs, caller_org(), limit=limit, cursor=cursor
    )
    return BatchList.of(found, following)


@app.get(
    "/registration-batches/<batchId>",
    summary="A batch: its counts and status, and its first 100 jobs (the rest through /jobs)",
    responses=_answers(
        200,
        _ok(BatchView, "The batch and its first jobs"),
    ),
)
def get_batch(batchId: BatchId) -> BatchView:  # noqa: N803 - the path parameter's name
    deps = wiring.api_deps()
    return BatchView.of_page(search.read_batch(deps.jobs, deps.executions, caller_org(), batchId))


@app.get(
    "/registration-batches/<batchId>/jobs",
    summary="A batch's jobs: filtered, searched by name, sorted, a page at a time",
    responses=_answers(
        200,
        _ok(
            JobList,
            "A page of the jobs that match, and how many match (422 validation_error, naming "
            "the parameter: an unknown status, sub-step or error code, a limit out of 1-200, "
            "a cursor of another query)",
        ),
    ),
)
def get_batch_jobs(
    batchId: BatchId,  # noqa: N803
    status: Annotated[list[str] | None, Query()] = None,
    step6_status: Annotated[list[str] | None, Query()] = None,
    failed_phase: Annotated[str | None, Query(max_length=16)] = None,
    failed_sub_step: Annotated[str | None, Query(max_length=64)] = None,
    error_code: Annotated[str | None, Query(max_length=64)] = None,
    resumable: Annotated[bool | None, Query()] = None,
    current_step: Annotated[int | None, Query(ge=1, le=6)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    sort: Annotated[str, Query(max_length=16)] = "created",
    order: Annotated[str, Query(max_length=4)] = "asc",
    cursor: Annotated[str | None, Query(max_length=2_000)] = None,
    limit: Annotated[int, Query()] = search.DEFAULT_PAGE,
) -> JobList:
    query = search.parse_query(
        status=status,
        step6_status=step6_status,
        failed_phase=failed_phase,
        failed_sub_step=failed_sub_step,
        error_code=error_code,
        resumable=resumable,
        current_step=current_step,
        q=q,
        sort=sort,
        order=order,
        limit=limit,
        cursor=cursor,
    )
    deps = wiring.api_deps()
    return JobList.of(search.search_jobs(deps.jobs, deps.executions, caller_org(), batchId, query))


@app.get(
    "/failures",
    summary="The jobs that need action, grouped by cause (of a batch, or the whole org)",
    responses=_answers(
        200,
        _ok(FailureList, "The groups, biggest first"),
    ),
)
def get_failures(
    batch_id: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
) -> FailureList:
    return FailureList.of(search.failure_groups(wiring.api_deps().jobs, caller_org(), batch_id))


@app.get(
    "/registration-batches/jobs/<jobId>",
    summary="One job: steps, redacted config, Step 6 progress, last failure, resume point",
    responses=_answers(
        200,
        _ok(JobView, "The job (settled first if its run has ended)"),
    ),
)
def get_job(jobId: JobIdParam) -> JobView:  # noqa: N803
    deps = wiring.api_deps()
    pipelines = wiring.pipeline_api_deps().executions
    return JobView.of(
        reads.read_job(deps.jobs, deps.executions, caller_org(), jobId, pipelines=pipelines)
    )


@app.get(
    "/registration-batches/jobs/<jobId>/events",
    summary="The job's audit trail, oldest first",
    responses=_answers(
        200,
        _ok(EventList, "The job's events"),
    ),
)
def get_job_events(jobId: JobIdParam) -> EventList:  # noqa: N803
    return EventList.of(reads.read_events(wiring.api_deps().jobs, caller_org(), jobId))


@app.post(
    "/registration-batches/<batchId>/step-5",
    summary="Submit Step 5 (Yolo Mode config) for selected jobs; starts Step 6 for each",
    status_code=202,
    responses=_answers(
        202,
        _ok(
            SettledJobs,
            "Each job accepted (its run started) or rejected with a reason; a job whose "
            "Step 5 is already completed is rejected and left unchanged",
        ),
        body=True,
    ),
)
def post_step5(batchId: BatchId, request: Step5Request) -> SettledJobs:  # noqa: N803
    deps = wiring.api_deps()
    settled = batch_actions.submit_step5_selected(
        deps.jobs,
        deps.secrets,
        deps.executions,
        caller_org(),
        batchId,
        [(entry.job_id, entry.execution_config) for entry in request.jobs],
        actor=caller_actor(),
    )
    return SettledJobs.of(settled)


@app.post(
    "/registration-batches/jobs/<jobId>/resume-step-6",
    summary="Resume one job's Step 6 in the background from its resume point",
    status_code=202,
    responses=_answers(
        202,
        _ok(StartedJob, "The run started"),
        conflict="already_running: a run is already active (active_execution names it); "
        "not_resumable: nothing to resume; conflict: the job changed meanwhile, try again",
        body=True,
        unavailable="Step Functions refused to start the run",
    ),
)
def post_resume_job(jobId: JobIdParam) -> StartedJob:  # noqa: N803
    deps = wiring.api_deps()
    return StartedJob.of(
        runs.resume_one(deps.jobs, deps.executions, caller_org(), jobId, actor=caller_actor())
    )


@app.post(
    "/registration-batches/<batchId>/resume-step-6",
    summary="Resume selected jobs of a batch (all-settled)",
    status_code=202,
    responses=_answers(
        202,
        _ok(SettledJobs, "Each job accepted or rejected with a reason"),
        body=True,
    ),
)
def post_resume_batch(batchId: BatchId, request: ResumeBatchRequest) -> SettledJobs:  # noqa: N803
    deps = wiring.api_deps()
    return SettledJobs.of(
        batch_actions.resume_selected(
            deps.jobs, deps.executions, caller_org(), batchId, request.job_ids, actor=caller_actor()
        )
    )


@app.get(
    "/registration-batches/jobs/<jobId>/runs",
    summary="The job's Step 6 runs, newest first (the newest 20)",
    responses=_answers(
        200,
        _ok(RunList, "Each run: trigger, actor, resume point, times, what each sub-step did"),
    ),
)
def get_job_runs(jobId: JobIdParam) -> RunList:  # noqa: N803
    return RunList.of(reads.read_runs(wiring.api_deps().jobs, caller_org(), jobId))


@app.post(
    "/registration-batches/jobs/<jobId>/cancel",
    summary="Stop the job's active run; it settles as action_required (aborted), resumable",
    status_code=202,
    responses=_answers(
        202,
        _ok(CancelledRun, "The run was asked to stop"),
        conflict="not_running: the job has no active run",
        unavailable="Step Functions refused to stop the run",
    ),
)
def post_cancel(jobId: JobIdParam) -> CancelledRun:  # noqa: N803
    deps = wiring.api_deps()
    arn = operator_actions.cancel_run(
        deps.jobs, deps.executions, caller_org(), jobId, actor=caller_actor()
    )
    return CancelledRun(job_id=jobId, execution_arn=arn)


@app.patch(
    "/registration-batches/jobs/<jobId>/execution-config",
    summary="Amend config fields no completed sub-step has read (Step 5 stays completed)",
    responses=_answers(
        200,
        _ok(JobView, "The job with its amended config"),
        conflict="config_in_use: completed sub-steps read a changed field (fields[].used_by names "
        "them); already_running; step5_not_completed; conflict",
        body=True,
    ),
)
def patch_execution_config(jobId: JobIdParam, request: ConfigAmendment) -> JobView:  # noqa: N803
    deps = wiring.api_deps()
    return JobView.of(
        operator_actions.amend_config(
            deps.jobs,
            deps.secrets,
            deps.executions,
            caller_org(),
            jobId,
            request,
            actor=caller_actor(),
        )
    )


@app.post(
    "/registration-batches/jobs/<jobId>/rerun",
    summary="Re-run completed sub-steps and all that depends on them (new idempotency keys)",
    status_code=202,
    responses=_answers(
        202,
        _ok(RerunStarted, "The run started; `reset` lists what runs again"),
        conflict="not_rerunnable: a named sub-step (or one depending on it) creates a unique "
        "object; not_completed: a named sub-step has not completed (resume runs it); "
        "already_running; not_resumable; conflict",
        body=True,
        unavailable="Step Functions refused to start the run",
    ),
)
def post_rerun(jobId: JobIdParam, request: RerunRequest) -> RerunStarted:  # noqa: N803
    deps = wiring.api_deps()
    started, reset = operator_actions.rerun(
        deps.jobs, deps.executions, caller_org(), jobId, request.sub_steps, actor=caller_actor()
    )
    return RerunStarted(
        job_id=started.job_id,
        execution_arn=started.execution_arn,
        resume_from=started.resume_from,
        reset=reset,
    )


@app.post(
    "/registration-batches/jobs/<jobId>/sub-steps/<subStep>/skip",
    summary="Accept a failed non-blocking sub-step as skipped, for good (with a reason)",
    responses=_answers(
        200,
        _ok(JobView, "The job; not resumable any more when nothing else is left"),
        conflict="blocking_sub_step: the job cannot go on without it; not_failed: it has not "
        "failed; already_running; conflict",
        body=True,
    ),
)
def post_skip(jobId: JobIdParam, subStep: SubStepParam, request: SkipRequest) -> JobView:  # noqa: N803
    deps = wiring.api_deps()
    return JobView.of(
        operator_actions.skip_sub_step(
            deps.jobs,
            deps.executions,
            caller_org(),
            jobId,
            subStep,
            request.reason,
            actor=caller_actor(),
        )
    )


# ---------------------------------------------------------------------- errors, once


def _answer(status: HTTPStatus, error: str, message: str, **extra: Any) -> Response[Any]:
    body = ErrorBody(statusCode=status.value, error=error, message=message, **extra)
    return Response(
        status_code=status.value,
        content_type="application/json",
        body=body.model_dump(mode="json", exclude_none=True),
    )


def _not_found(error: NotFoundError) -> Response[Any]:
    return _answer(HTTPStatus.NOT_FOUND, "not_found", str(error))


def _no_route(_: Exception) -> Response[Any]:
    path = app.current_event.path
    return _answer(HTTPStatus.NOT_FOUND, "not_found", f"no route for {path}")


def _conflict(error: ConflictError) -> Response[Any]:
    return _answer(
        HTTPStatus.CONFLICT, error.code, str(error), active_execution=error.active_execution
    )


def _not_resumable(error: errors.NotResumableError) -> Response[Any]:
    return _answer(HTTPStatus.CONFLICT, "not_resumable", str(error))


# One code per condition the state forbids (the request itself is well formed: 409, not 422).
STATE_CONFLICTS: dict[type[Exception], str] = {
    errors.NotRunningError: "not_running",
    errors.NotRerunnableError: "not_rerunnable",
    errors.NotCompletedError: "not_completed",
    errors.BlockingSubStepError: "blocking_sub_step",
    errors.NotFailedError: "not_failed",
    errors.StepNotCompletedError: "step5_not_completed",
    errors.StepsPendingError: "steps_pending",
    errors.StepNotFailedError: "step_not_failed",
    errors.NotWaitingError: "not_waiting",
}


def _state_conflict(error: Exception) -> Response[Any]:
    return _answer(HTTPStatus.CONFLICT, STATE_CONFLICTS[type(error)], str(error))


def _config_in_use(error: errors.ConfigInUseError) -> Response[Any]:
    fields = [
        FieldError(
            field=path,
            message=f"{path} was read by {', '.join(names)}, which completed",
            type="config_in_use",
            used_by=names,
        )
        for path, names in error.used.items()
    ]
    return _answer(HTTPStatus.CONFLICT, "config_in_use", str(error), fields=fields)


def _stop_failed(error: ExecutionStopError) -> Response[Any]:
    logger.warning("Step Functions refused to stop a run", error=str(error))
    return _answer(
        HTTPStatus.SERVICE_UNAVAILABLE, "stop_failed", "could not stop the run; try again"
    )


def _step_completed(error: errors.StepAlreadyCompletedError) -> Response[Any]:
    return _answer(HTTPStatus.CONFLICT, "step5_completed", str(error))


def _invalid(error: errors.InvalidRequestError) -> Response[Any]:
    fields = [FieldError(field=error.field, message=str(error), type="value_error")]
    return _answer(
        HTTPStatus.UNPROCESSABLE_ENTITY,
        "validation_error",
        str(error),
        fields=fields if error.field else None,
    )


def _malformed(error: MalformedBodyError) -> Response[Any]:
    message = f"the body is not valid JSON: {error}"
    return _answer(
        HTTPStatus.UNPROCESSABLE_ENTITY,
        "validation_error",
        message,
        fields=[FieldError(field="body", message=message, type="json_invalid")],
    )


def _field_of(loc: Sequence[Any]) -> str:
    """A field's path as the request writes it: without the body and without the tag pydantic
    puts after `restaurants.<i>` for the form a restaurant was read as (`full`, `website`)."""
    parts = [p for p in loc if p != "body"]
    kept = [
        p
        for i, p in enumerate(parts)
        if not (p in RESTAURANT_FORMS and i >= 2 and parts[i - 2] == "restaurants")
    ]
    return ".".join(str(p) for p in kept) or "body"


def _request_invalid(error: RequestValidationError) -> Response[Any]:
    # Never echo `input`: it may hold the password.
    fields = [
        FieldError(
            field=_field_of(e.get("loc", ())),
            message=str(e.get("msg", "invalid")),
            type=str(e.get("type", "invalid")),
        )
        for e in error.errors()
    ]
    summary = "; ".join(f"{f.field}: {f.message}" for f in fields[:5])
    return _answer(
        HTTPStatus.UNPROCESSABLE_ENTITY,
        "validation_error",
        f"invalid request: {summary}",
        fields=fields,
    )


def _too_large(error: ItemTooLargeError) -> Response[Any]:
    return _answer(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "too_large", str(error))


def _register_unavailable(error: TransientRegisterError) -> Response[Any]:
    logger.warning("the company register did not answer", error=str(error))
    return _answer(
        HTTPStatus.SERVICE_UNAVAILABLE,
        "register_unavailable",
        "the company register did not answer; try again",
    )


def _register_rejected(error: RegisterError) -> Response[Any]:
    logger.warning("the company register refused a look-up", error=str(error))
    return _answer(HTTPStatus.BAD_GATEWAY, "register_rejected", "the company register refused")


def _password_store_unavailable(error: SecretStoreError) -> Response[Any]:
    logger.warning("the password could not be encrypted", error=str(error))
    return _answer(
        HTTPStatus.SERVICE_UNAVAILABLE,
        "password_store_unavailable",
        "the password could not be stored; try again",
    )


def _start_failed(error: ExecutionStartError) -> Response[Any]:
    logger.warning("Step Functions refused to start a run", error=str(error))
    return _answer(
        HTTPStatus.SERVICE_UNAVAILABLE, "start_failed", "could not start the run; try again"
    )


# Registered as calls: the decorators are untyped.
app.not_found(_no_route)
app.exception_handler(NotFoundError)(_not_found)
app.exception_handler(ConflictError)(_conflict)
app.exception_handler(errors.NotResumableError)(_not_resumable)
for _condition in STATE_CONFLICTS:
    app.exception_handler(_condition)(_state_conflict)
app.exception_handler(errors.ConfigInUseError)(_config_in_use)
app.exception_handler(ExecutionStopError)(_stop_failed)
app.exception_handler(SecretStoreError)(_password_store_unavailable)
app.exception_handler(errors.StepAlreadyCompletedError)(_step_completed)
app.exception_handler(errors.InvalidRequestError)(_invalid)
app.exception_handler(RequestValidationError)(_request_invalid)
app.exception_handler(MalformedBodyError)(_malformed)
app.exception_handler(ExecutionStartError)(_start_failed)
app.exception_handler(TransientRegisterError)(_register_unavailable)
app.exception_handler(RegisterError)(_register_rejected)
app.exception_handler(ItemTooLargeError)(_too_large)


# ---------------------------------------------------------------------- entry point


def _claims(event: dict[str, Any]) -> dict[str, Any]:
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    claims = authorizer.get("claims") or {}
    return claims if isinstance(claims, dict) else {}


def _org_claim(event: dict[str, Any]) -> str | None:
    """The caller's org from the authorizer's claims; None when absent or empty."""
    org = _claims(event).get(ORG_CLAIM)
    return org if isinstance(org, str) and org else None


def _actor_claim(event: dict[str, Any]) -> str:
    """The caller as the audit trail names them: the email, else the Cognito user name."""
    claims = _claims(event)
    for name in ("email", "cognito:username", "sub"):
        value = claims.get(name)
        if isinstance(value, str) and value:
            return value[:200]
    return "unknown"


def _is_json(event: dict[str, Any]) -> bool:
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    content_type = str(headers.get("content-type") or "application/json").strip().lower()
    return content_type.startswith("application/json")


def _is_text(event: dict[str, Any]) -> bool:
    if not event.get("isBase64Encoded"):
        return True
    try:
        base64.b64decode(str(event["body"]), validate=True).decode("utf-8")
    except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors
        return False
    return True


def _proxy_error(
    status: HTTPStatus, error: str, message: str, fields: list[FieldError] | None = None
) -> dict[str, Any]:
    """An error answered before routing, as API Gateway proxy output."""
    body = ErrorBody(statusCode=status.value, error=error, message=message, fields=fields)
    return {
        "statusCode": status.value,
        "headers": {"Content-Type": "application/json", "Access-Control-Allow-Origin": CORS_ORIGIN},
        "body": body.model_dump_json(exclude_none=True),
    }


def unauthorized(message: str) -> dict[str, Any]:
    return _proxy_error(HTTPStatus.UNAUTHORIZED, "unauthorized", message)


# The resolver keeps the request being handled in class attributes (`current_event`,
# `context`): one request at a time per process, as in a Lambda execution environment. The
# lock is free on Lambda; it makes the handler safe to call from threads (the local server).
# Concurrency between requests is concurrency between environments, and the conditional
# writes of the domain are what make that safe.
_one_request_at_a_time = threading.Lock()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    org: str | None = None
    if event.get("httpMethod") != "OPTIONS":
        org = _org_claim(event)
        if org is None:
            return unauthorized(f"the caller's token has no {ORG_CLAIM} claim")
        if event.get("httpMethod") in BODY_METHODS and event.get("body"):
            if not _is_json(event):
                return _proxy_error(
                    HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    "send application/json",
                )
            if not _is_text(event):
                message = "the body is not UTF-8 encoded JSON"
                return _proxy_error(
                    HTTPStatus.UNPROCESSABLE_ENTITY,
                    "validation_error",
                    message,
                    [FieldError(field="body", message=message, type="json_invalid")],
                )
        logger.thread_safe_clear_keys()
        logger.thread_safe_append_keys(org_id=org)
    with _one_request_at_a_time:
        if org is not None:
            app.context[CALLER_ORG] = org  # per request: resolve() clears the context
            app.context[CALLER_ACTOR] = _actor_claim(event)
        return app.resolve(event, context)


def openapi_document() -> str:
    """The OpenAPI document generated from the routes (`make openapi` checks it in)."""
    # Imported here: the OpenAPI models cost more to import than the rest of this module.
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    return app.get_openapi_json_schema(
        title=API_TITLE,
        version=API_VERSION,
        description=(
            "Registration batches and the resumable Step 6 (Pumpd account setup). Every route "
            "is scoped to the caller's org (the Cognito ID token's custom:org_id claim): "
            "another org's batch or job answers 404, exactly as a missing one does."
        ),
        security_schemes={
            "cognito": HTTPBearer(
                description="Cognito ID token (API Gateway); locally `Bearer local:<org_id>`"
            )
        },
        security=[{"cognito": []}],
    )
