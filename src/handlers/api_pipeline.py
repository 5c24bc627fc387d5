"""Steps 1-4 routes (§14): a Powertools Router included by `handlers.api`.

Thin: parse, call one use case of `domain.pipeline_actions`, answer the job. Each answer
starts a JobPipeline execution at the step that follows and returns at once (202).
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from domain import pipeline_actions
from domain.summary import details
from handlers import wiring
from handlers.api_models import ErrorBody, JobView, Step2Answer, Step3Answer
from handlers.router_context import caller_actor, caller_org

router = Router()  # type: ignore[no-untyped-call]

JobIdParam = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]
RetryableStep = Annotated[str, Path(pattern=r"^[1-6]$")]  # 1, 2 or 4 (the domain says why not)


def _ok(description: str) -> OpenAPIResponse:
    return {"description": description, "content": {"application/json": {"model": JobView}}}


def _error(description: str) -> OpenAPIResponse:
    return {"description": description, "content": {"application/json": {"model": ErrorBody}}}


_ANSWERS: dict[int, OpenAPIResponse] = {
    400: _error("A malformed request: the URL, or more than one credential"),
    401: _error("No org in the caller's credentials"),
    404: _error("No such job in the org"),
    415: _error("The body is not JSON"),
    422: _error("Invalid input; names each field"),
    503: _error("Step Functions refused to start; the step is recorded failed: retry it"),
}


def _org() -> str:
    return caller_org(router)


def _actor() -> str:
    return caller_actor(router)


@router.post(
    "/registration-batches/jobs/<jobId>/steps/<n>/retry",
    summary="Run a failed Step 1, 2 or 4 again (a completed step never runs again)",
    status_code=202,
    responses={
        202: _ok("The step started again"),
        409: _error(
            "step_not_failed: the step has not failed; already_running: Steps 1-4 are running"
        ),
        **_ANSWERS,
    },
)
def post_retry_step(jobId: JobIdParam, n: RetryableStep) -> JobView:  # noqa: N803
    job = pipeline_actions.retry_step(
        wiring.pipeline_api_deps(), _org(), jobId, int(n), actor=_actor()
    )
    return JobView.of(details(job))


@router.post(
    "/registration-batches/jobs/<jobId>/step-2",
    summary="Complete Step 2 with the restaurant's email and phone; Step 3's search starts",
    status_code=202,
    responses={
        202: _ok("Step 2 completed; the company register is searched for Step 3"),
        409: _error("not_waiting: Step 2 is not waiting for an answer"),
        **_ANSWERS,
    },
)
def post_step2(jobId: JobIdParam, request: Step2Answer) -> JobView:  # noqa: N803
    job = pipeline_actions.answer_step2(
        wiring.pipeline_api_deps(), _org(), jobId, request.email, request.phone, actor=_actor()
    )
    return JobView.of(details(job))


@router.post(
    "/registration-batches/jobs/<jobId>/step-3",
    summary="Choose the restaurant's company (Step 3); Step 4 fetches its details",
    status_code=202,
    responses={
        202: _ok("Step 3 completed; Step 4 started"),
        409: _error("not_waiting: Step 3 is not waiting for a choice"),
        **_ANSWERS,
    },
)
def post_step3(jobId: JobIdParam, request: Step3Answer) -> JobView:  # noqa: N803
    job = pipeline_actions.answer_step3(
        wiring.pipeline_api_deps(), _org(), jobId, request.company_number, actor=_actor()
    )
    return JobView.of(details(job))
