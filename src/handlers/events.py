"""Pydantic models of the events the state machine and EventBridge send to handlers."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field, field_validator

from state.models import PhaseName


class PrepareRunEvent(BaseModel):
    input: dict[str, Any]
    execution_arn: str

    @property
    def job_id(self) -> str:
        return str(self.input["job_id"])

    @property
    def resume_from(self) -> str | None:
        value = self.input.get("resume_from")
        return None if value is None else str(value)


class PhaseEvent(BaseModel):
    job_id: str
    phase: PhaseName
    execution_arn: str


class CompleteRunEvent(BaseModel):
    job_id: str
    execution_arn: str


class ExecutionStatusDetail(BaseModel):
    executionArn: str  # noqa: N815 - EventBridge's field names
    stateMachineArn: str  # noqa: N815
    status: str
    input: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None
    cause: str | None = None

    @field_validator("input", mode="before")
    @classmethod
    def _parse_input(cls, value: Any) -> Any:
        # EventBridge sends the execution input as a JSON string.
        return json.loads(value) if isinstance(value, str) else value or {}


class PipelineStepEvent(BaseModel):
    """A JobPipeline task's input (statemachine/job_pipeline.asl.json)."""

    job_id: str
    execution_arn: str


class CaughtError(BaseModel):
    """What a Catch puts at its ResultPath: the error's name and, when there is one, its cause."""

    Error: str
    Cause: str | None = None


class PipelineFailedEvent(BaseModel):
    """The JobPipeline's Catch: the error Step Functions caught (passed whole: a Cause may be
    missing, and a JSONPath to a missing field would fail the state itself)."""

    job_id: str
    execution_arn: str
    error: CaughtError
