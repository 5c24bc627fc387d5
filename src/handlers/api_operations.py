"""The bulk operations routes (§13): a Powertools Router included by `handlers.api`.

Thin: parse, call one use case of `domain.operations`, answer. The API never fans out: the
operation is stored and handed to the BulkOperation state machine, and 202 answers at once.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel

from clients.task_tokens import OperationStartError
from domain import operations
from handlers import wiring
from handlers.api_models import ErrorBody
from handlers.api_operation_models import (
    ItemOutcomeName,
    OperationBody,
    OperationJob,
    OperationJobList,
    OperationList,
    OperationRequest,
)
from handlers.router_context import caller_actor, caller_org
from state.operations import TokenConflictError

router = Router()  # type: ignore[no-untyped-call]

OperationId = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]
Cursor = Annotated[str | None, Query(max_length=2048)]
Outcome = Annotated[ItemOutcomeName | None, Query()]


def _ok(model: type[BaseModel], description: str) -> OpenAPIResponse:
    return {"description": description, "content": {"application/json": {"model": model}}}


def _error(description: str) -> OpenAPIResponse:
    return _ok(ErrorBody, description)


_REFUSED: dict[int, OpenAPIResponse] = {
    400: _error("A malformed request: the URL, or more than one credential"),
    401: _error("No org in the caller's credentials"),
    422: _error("Invalid input; names each field"),
}
_NOT_FOUND: dict[int, OpenAPIResponse] = {404: _error("No such operation (or batch) in the org")}


def _org() -> str:
    return caller_org(router)


def _actor() -> str:
    return caller_actor(router)


@router.post(
    "/operations",
    summary="Start a bulk operation (resume_step6, submit_step5, cancel) in the background",
    status_code=202,
    responses={
        202: _ok(OperationBody, "The operation, queued"),
        200: _ok(OperationBody, "The operation this client_token started, with the same body"),
        **_REFUSED,
        **_NOT_FOUND,
        409: _error("idempotency_conflict: the client_token was used with another body"),
        415: _error("The body is not application/json"),
        503: _error("start_failed: Step Functions refused to start the operation"),
    },
)
def post_operation(request: OperationRequest) -> Response[Any]:
    deps = wiring.operation_deps()
    op, created = operations.start_operation(deps, _org(), request.to_domain(), actor=_actor())
    body = OperationBody.of(operations.view(deps.ops, op))
    return Response(
        status_code=HTTPStatus.ACCEPTED if created else HTTPStatus.OK,
        content_type="application/json",
        body=body.model_dump(mode="json"),
    )


@router.get(
    "/operations",
    summary="The org's bulk operations, newest first",
    responses={200: _ok(OperationList, "A page of operations"), **_REFUSED},
)
def get_operations(cursor: Cursor = None) -> OperationList:
    found, next_cursor = operations.list_operations(wiring.operation_deps().ops, _org(), cursor)
    return OperationList(operations=[OperationBody.of(v) for v in found], next_cursor=next_cursor)


@router.get(
    "/operations/<operationId>",
    summary="One bulk operation: status and counts",
    responses={200: _ok(OperationBody, "The operation"), **_REFUSED, **_NOT_FOUND},
)
def get_operation(operationId: OperationId) -> OperationBody:  # noqa: N803
    found = operations.read_operation(wiring.operation_deps().ops, _org(), operationId)
    return OperationBody.of(found)


@router.get(
    "/operations/<operationId>/jobs",
    summary="A bulk operation's per-job outcomes",
    responses={200: _ok(OperationJobList, "A page of jobs"), **_REFUSED, **_NOT_FOUND},
)
def get_operation_jobs(
    operationId: OperationId,  # noqa: N803
    outcome: Outcome = None,
    cursor: Cursor = None,
) -> OperationJobList:
    items, next_cursor = operations.list_operation_jobs(
        wiring.operation_deps(), _org(), operationId, outcome, cursor
    )
    return OperationJobList(jobs=[OperationJob.of(i) for i in items], next_cursor=next_cursor)


@router.post(
    "/operations/<operationId>/cancel",
    summary="Cancel a bulk operation: no further job starts; runs already started finish",
    status_code=202,
    responses={202: _ok(OperationBody, "The operation"), **_REFUSED, **_NOT_FOUND},
)
def post_cancel_operation(operationId: OperationId) -> OperationBody:  # noqa: N803
    found = operations.cancel_operation(
        wiring.operation_deps().ops, _org(), operationId, actor=_actor()
    )
    return OperationBody.of(found)


def _answer(status: HTTPStatus, error: str, message: str) -> Response[Any]:
    body = ErrorBody(statusCode=status.value, error=error, message=message)
    return Response(
        status_code=status.value,
        content_type="application/json",
        body=body.model_dump(mode="json", exclude_none=True),
    )


def _token_conflict(error: TokenConflictError) -> Response[Any]:
    return _answer(HTTPStatus.CONFLICT, "idempotency_conflict", str(error))


def _start_failed(error: OperationStartError) -> Response[Any]:
    return _answer(
        HTTPStatus.SERVICE_UNAVAILABLE, "start_failed", "could not start the operation; try again"
    )


router.exception_handler(TokenConflictError)(_token_conflict)
router.exception_handler(OperationStartError)(_start_failed)
