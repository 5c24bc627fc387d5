"""The JobPipeline's tasks (Steps 1-4 of a job created from a website), one Lambda each:
Step1Function .. Step4Function run a step, StepFailedFunction records a step's failure."""

from __future__ import annotations

from typing import Any

from domain import pipeline_steps
from domain.pipeline_failures import record_failure
from handlers import wiring
from handlers.events import PipelineFailedEvent, PipelineStepEvent
from handlers.task import run_task


@run_task(PipelineStepEvent)
def step1(event: PipelineStepEvent) -> dict[str, Any]:
    return {
        "next": pipeline_steps.run_step1(wiring.pipeline_deps(), event.job_id, event.execution_arn)
    }


@run_task(PipelineStepEvent)
def step2(event: PipelineStepEvent) -> dict[str, Any]:
    return {
        "next": pipeline_steps.run_step2(wiring.pipeline_deps(), event.job_id, event.execution_arn)
    }


@run_task(PipelineStepEvent)
def step3(event: PipelineStepEvent) -> dict[str, Any]:
    return {
        "next": pipeline_steps.run_step3(wiring.pipeline_deps(), event.job_id, event.execution_arn)
    }


@run_task(PipelineStepEvent)
def step4(event: PipelineStepEvent) -> dict[str, Any]:
    return {
        "next": pipeline_steps.run_step4(wiring.pipeline_deps(), event.job_id, event.execution_arn)
    }


@run_task(PipelineFailedEvent)
def failed(event: PipelineFailedEvent) -> dict[str, Any]:
    error = event.error
    record_failure(wiring.jobs(), event.job_id, event.execution_arn, error.Error, error.Cause)
    return {"recorded": True}
