"""Request and response bodies of the bulk operations routes (§13)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.operations import (
    DEFAULT_CONCURRENCY,
    NewOperation,
    OperationConfig,
    OperationView,
    Selector,
)
from state.operations import OperationAction, OperationItem

ItemOutcomeName = Literal["running", "succeeded", "failed", "rejected", "cancelled"]


class OperationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    action: OperationAction
    selector: Selector
    max_concurrency: int = Field(default=DEFAULT_CONCURRENCY, ge=1, le=1_000)
    client_token: str | None = Field(
        default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$"
    )
    execution_config: OperationConfig | None = Field(
        default=None,
        description="submit_step5: Step 5's shape, applied to every selected job; "
        "account.email and menu.selectedMenuId default to each restaurant's own",
    )
    per_job: dict[str, OperationConfig] | None = Field(
        default=None, description="submit_step5: partial configs by job id (no passwords)"
    )
    generate_passwords: bool = Field(
        default=False, description="submit_step5: a strong random password per account"
    )

    def to_domain(self) -> NewOperation:
        return NewOperation(
            action=self.action,
            selector=self.selector,
            max_concurrency=self.max_concurrency,
            client_token=self.client_token,
            execution_config=self.execution_config,
            per_job=self.per_job,
            generate_passwords=self.generate_passwords,
        )


class OperationCounts(BaseModel):
    matched: int
    pending: int
    running: int
    succeeded: int
    failed: int
    rejected: int
    cancelled: int


class OperationBody(BaseModel):
    operation_id: str
    action: OperationAction
    status: Literal["queued", "running", "completed", "cancelled", "failed"]
    selector: dict[str, Any]
    max_concurrency: int
    counts: OperationCounts
    actor: str
    created_at: datetime
    ended_at: datetime | None = None
    cancel_requested_at: datetime | None = None
    client_token: str | None = None

    @classmethod
    def of(cls, found: OperationView) -> OperationBody:
        op = found.operation
        return cls(
            operation_id=op.operation_id,
            action=op.action,
            status=found.status,
            selector=op.selector,
            max_concurrency=op.max_concurrency,
            counts=OperationCounts(**found.counts),
            actor=op.actor,
            created_at=op.created_at,
            ended_at=op.ended_at,
            cancel_requested_at=op.cancel_requested_at,
            client_token=op.client_token,
        )


class OperationList(BaseModel):
    operations: list[OperationBody]
    next_cursor: str | None = None


class OperationJob(BaseModel):
    job_id: str
    restaurant_name: str | None = None
    outcome: ItemOutcomeName
    code: str | None = None
    reason: str | None = None
    execution_arn: str | None = None

    @classmethod
    def of(cls, item: OperationItem) -> OperationJob:
        return cls(
            job_id=item.job_id,
            restaurant_name=item.restaurant_name,
            outcome="running" if item.outcome == "starting" else item.outcome,
            code=item.code,
            reason=item.reason,
            execution_arn=item.execution_arn,
        )


class OperationJobList(BaseModel):
    jobs: list[OperationJob]
    next_cursor: str | None = None
