"""Bulk operations (docs/architecture.md §13): which jobs a selector takes, the per-job Step 5
config, and the API's use cases: start one (validate, store, hand to the engine), read it,
list its jobs, cancel it.

The API never fans out: it stores the operation and its job list (S3) and starts the
BulkOperation execution, whose Distributed Map runs each job (`domain.operation_items`).
"""

from __future__ import annotations

import hashlib
import json
import secrets as random_source
import string
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from domain.catalogue import SUB_STEP_NAMES
from domain.errors import InvalidRequestError
from domain.onboarding import ExecutionConfigInput, check_password_rule
from domain.search import JobQuery
from domain.summary import listing_of
from state.fields import Email
from state.models import (
    ErrorCode,
    Job,
    JobListing,
    MenuConfig,
    OnboardingConfig,
    PhaseName,
    StepStatus,
)
from state.operations import (
    TERMINAL_STATUSES,
    Operation,
    OperationAction,
    OperationItem,
    OperationRepository,
    OperationStatus,
    TokenConflictError,
    decode_cursor,
    encode_cursor,
)

if TYPE_CHECKING:
    from clients.secrets import SecretStore
    from clients.storage import ObjectStore
    from clients.task_tokens import OperationEngine
    from state.repository import JobRepository

MAX_JOB_IDS = 10_000
DEFAULT_CONCURRENCY = 25
PAGE_SIZE = 50
STRICT = ConfigDict(extra="forbid", strict=True)

StatusName = Literal[
    "pending", "in_progress", "action_required", "completed", "failed", "completed_with_errors"
]
ErrorCodeName = Literal[
    "platform_rejected",
    "platform_unavailable",
    "interrupted",
    "timed_out",
    "aborted",
    "output_too_large",
    "invalid_config",
    "internal_error",
    "site_unreachable",
    "no_menu_found",
    "register_unavailable",
    "register_rejected",
]
assert set(ErrorCodeName.__args__) == {c.value for c in ErrorCode}  # type: ignore[attr-defined]
IdString = str
_ID = r"^[A-Za-z0-9_-]{1,128}$"


class Selector(BaseModel):
    """Which jobs: every given field must match; `batch_id` or `job_ids` (or both) required."""

    model_config = STRICT

    batch_id: str | None = Field(default=None, pattern=_ID)
    job_ids: list[IdString] | None = Field(default=None, min_length=1, max_length=MAX_JOB_IDS)
    status: StatusName | None = None
    step6_status: StatusName | None = None
    failed_phase: PhaseName | None = None
    failed_sub_step: str | None = None
    error_code: ErrorCodeName | None = None
    resumable: bool | None = None

    @field_validator("job_ids")
    @classmethod
    def _ids(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        bad = [
            v
            for v in value
            if not (
                0 < len(v) <= 128 and v.replace("-", "").replace("_", "").isalnum() and v.isascii()
            )
        ]
        if bad:
            raise ValueError(f"job ids must be 1-128 letters, digits, - or _: {bad[:3]}")
        return list(dict.fromkeys(value))

    @field_validator("failed_sub_step")
    @classmethod
    def _known_sub_step(cls, value: str | None) -> str | None:
        if value is not None and value not in SUB_STEP_NAMES:
            raise ValueError(f"unknown sub-step {value!r}; known: {list(SUB_STEP_NAMES)}")
        return value

    @model_validator(mode="after")
    def _scoped(self) -> Selector:
        if self.batch_id is None and self.job_ids is None:
            raise ValueError("a selector needs batch_id or job_ids")
        return self

    def stored(self) -> dict[str, Any]:
        """As kept on the operation: the given fields, job ids counted rather than listed."""
        given = self.model_dump(exclude_none=True, exclude={"job_ids"})
        if self.job_ids is not None:
            given["job_count"] = len(self.job_ids)
        return given


def query_of(selector: Selector) -> JobQuery:
    """The selector's filters as the batch job list's query (one matching rule for both)."""
    return JobQuery(
        status=frozenset({StepStatus(selector.status)}) if selector.status else frozenset(),
        step6_status=(
            frozenset({StepStatus(selector.step6_status)}) if selector.step6_status else frozenset()
        ),
        failed_phase=selector.failed_phase,
        failed_sub_step=selector.failed_sub_step,
        error_code=ErrorCode(selector.error_code) if selector.error_code else None,
        resumable=selector.resumable,
    )


def _in_scope(selector: Selector, job_id: str, batch_id: str) -> bool:
    return (selector.batch_id is None or batch_id == selector.batch_id) and (
        selector.job_ids is None or job_id in selector.job_ids
    )


def matches(selector: Selector, job: Job) -> bool:
    """Whether `job` is one the selector takes (pure: tested without AWS)."""
    return _in_scope(selector, job.job_id, job.batch_id) and query_of(selector).matches(
        listing_of(job)
    )


def select_listed(selector: Selector, listings: list[JobListing]) -> list[str]:
    """The ids of the listed jobs the selector takes, in the listing's order."""
    query = query_of(selector)
    return [
        x.job_id for x in listings if _in_scope(selector, x.job_id, x.batch_id) and query.matches(x)
    ]


# ---------------------------------------------------------------- the Step 5 config


class OperationAccount(BaseModel):
    model_config = STRICT

    registerNewUser: bool = True  # noqa: N815
    # Defaults to each restaurant's own email.
    email: Email | None = None
    password: SecretStr | None = None

    @field_validator("password")
    @classmethod
    def _password_rule(cls, value: SecretStr | None) -> SecretStr | None:
        return value if value is None else check_password_rule(value)


class OperationConfig(BaseModel):
    """Step 5's shape for many jobs: `account.email` and `menu.selectedMenuId` default to each
    restaurant's own; the password is typed once or generated per account."""

    model_config = STRICT

    account: OperationAccount = Field(default_factory=OperationAccount)
    menu: MenuConfig = Field(default_factory=MenuConfig)
    onboarding: OnboardingConfig = Field(default_factory=OnboardingConfig)
    steps_enabled: dict[str, bool] = Field(default_factory=dict)


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def job_config(
    shared: Mapping[str, Any],
    override: Mapping[str, Any],
    *,
    email: str,
    menu_id: str | None,
    password: str | None,
) -> ExecutionConfigInput:
    """One job's Step 5 config: the shared one, its overrides, its restaurant's defaults.

    Raises pydantic's ValidationError when the result is not a valid Step 5 config.
    """
    merged = _merge(dict(shared), override)
    account = dict(merged.get("account") or {})
    if account.get("email") is None:
        account["email"] = email
    account.pop("password", None)
    if password is not None:
        account["password"] = SecretStr(password)
    merged["account"] = account
    menu = dict(merged.get("menu") or {})
    if menu.get("selectedMenuId") is None and menu_id is not None:
        menu["selectedMenuId"] = menu_id
    merged["menu"] = menu
    return ExecutionConfigInput.model_validate(merged)


def generated_password() -> str:
    """A strong random password that meets Step 5's rule (letters and digits, 24 long)."""
    alphabet = string.ascii_letters + string.digits
    while True:
        candidate = "".join(random_source.choice(alphabet) for _ in range(24))
        if any(c.isalpha() for c in candidate) and any(c.isdigit() for c in candidate):
            return candidate


# ---------------------------------------------------------------- the API's use cases


@dataclass(frozen=True)
class OperationDeps:
    jobs: JobRepository
    ops: OperationRepository
    secrets: SecretStore
    store: ObjectStore
    engine: OperationEngine
    # How long an item waits for its run's answer before it asks again (the map retries it:
    # its second invocation answers at once when the run has settled), so a lost answer delays
    # a job, never strands it.
    answer_timeout_s: int = 900


@dataclass(frozen=True)
class NewOperation:
    action: OperationAction
    selector: Selector
    max_concurrency: int = DEFAULT_CONCURRENCY
    client_token: str | None = None
    execution_config: OperationConfig | None = None
    per_job: Mapping[str, OperationConfig] | None = None
    generate_passwords: bool = False

    def request_hash(self) -> str:
        """The body as compared for a client token (the password left out: never hashed)."""
        body = {
            "action": self.action,
            "selector": self.selector.model_dump(exclude_none=True),
            "max_concurrency": self.max_concurrency,
            "execution_config": _config_dump(self.execution_config),
            "per_job": {k: _config_dump(v) for k, v in (self.per_job or {}).items()},
            "generate_passwords": self.generate_passwords,
        }
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _config_dump(config: OperationConfig | None) -> dict[str, Any] | None:
    if config is None:
        return None
    dumped = config.model_dump(mode="json", exclude_unset=True)
    (dumped.get("account") or {}).pop("password", None)
    return dumped


@dataclass(frozen=True)
class OperationView:
    operation: Operation
    counts: dict[str, int]
    status: OperationStatus


def _check(request: NewOperation) -> None:
    """The rules across fields; InvalidRequestError (422) before anything is written."""
    step5_only = (
        request.execution_config is not None or request.per_job or request.generate_passwords
    )
    if request.action != "submit_step5":
        if step5_only:
            raise InvalidRequestError(
                "execution_config, per_job and generate_passwords go with submit_step5 only",
                field="action",
            )
        return
    if request.execution_config is None:
        raise InvalidRequestError("submit_step5 needs execution_config", field="execution_config")
    typed = request.execution_config.account.password is not None
    if typed and request.generate_passwords:
        raise InvalidRequestError(
            "give account.password or generate_passwords, not both",
            field="execution_config.account.password",
        )
    for job_id, override in (request.per_job or {}).items():
        if override.account.password is not None:
            raise InvalidRequestError(
                "per_job configs take no password (use generate_passwords or the shared one)",
                field=f"per_job.{job_id}.account.password",
            )
    if not (typed or request.generate_passwords):
        raise InvalidRequestError(
            "give execution_config.account.password or generate_passwords: true",
            field="generate_passwords",
        )
    # Each job's config is checked with stand-ins for what each job brings (its email, its menu,
    # its password): what is left to fail is the request's own.
    shared = _config_dump(request.execution_config) or {}
    overrides: list[tuple[str, OperationConfig | None]] = [("*", None)]
    overrides += list((request.per_job or {}).items())
    for where_id, partial in overrides:
        try:
            job_config(
                shared,
                _config_dump(partial) or {},
                email="placeholder@example.com",
                menu_id=None,
                password="Placeholder1234",
            )
        except ValidationError as error:
            where = "execution_config" if where_id == "*" else f"per_job.{where_id}"
            first = error.errors()[0]
            path = ".".join(str(part) for part in first["loc"])
            field = f"{where}.{path}" if path else where
            raise InvalidRequestError(f"{field}: {first['msg']}", field=field) from error


def start_operation(
    deps: OperationDeps, org_id: str, request: NewOperation, *, actor: str
) -> tuple[Operation, bool]:
    """Validate, resolve the selection, store the operation and its job list, start the engine.

    Returns the operation and whether it is new (False: the client token's earlier one).
    """
    _check(request)
    digest = request.request_hash()
    if request.client_token is not None:
        found = deps.ops.find_by_token(org_id, request.client_token)
        if found is not None:
            if found[1] != digest:
                raise TokenConflictError(found[0])
            return _started(deps, deps.ops.get(org_id, found[0])), False
    selector = request.selector
    if selector.batch_id is not None:
        batch = deps.jobs.get_batch(org_id, selector.batch_id)
        # The batch's listings (the index: small items, no progress or menu), not its jobs.
        selected = select_listed(selector, deps.jobs.list_listings(batch.batch_id))
    else:
        # Each named job is checked (org, selector) when its item runs.
        selected = list(selector.job_ids or [])
    unknown = sorted(set(request.per_job or {}) - set(selected))
    if unknown:
        raise InvalidRequestError(
            f"per_job names jobs not in the selection: {unknown[:5]}", field="per_job"
        )
    operation_id = uuid.uuid4().hex
    items_key = f"operations/{operation_id}/items.json"
    per_job = {k: _config_dump(v) or {} for k, v in (request.per_job or {}).items()}
    items = [
        {
            "operation_id": operation_id,
            "job_id": job_id,
            "config": per_job.get(job_id, {}),
            "answer_timeout_s": deps.answer_timeout_s,
        }
        for job_id in selected
    ]
    config_key = None
    ref = None
    if request.action == "submit_step5":
        assert request.execution_config is not None
        # The password first: if it cannot be encrypted, nothing at all was stored.
        password = request.execution_config.account.password
        if password is not None:
            ref = deps.secrets.put_password(
                f"operation-{operation_id}", password.get_secret_value()
            )
        config_key = f"operations/{operation_id}/config.json"
        deps.store.put_text(
            config_key,
            json.dumps(_config_dump(request.execution_config)),
            "application/json",
        )
    deps.store.put_text(items_key, json.dumps(items), "application/json")
    op = Operation(
        operation_id=operation_id,
        org_id=org_id,
        action=request.action,
        selector=selector.stored(),
        max_concurrency=request.max_concurrency,
        matched=len(selected),
        actor=actor,
        items_key=items_key,
        config_key=config_key,
        password_secret_ref=ref,
        generate_passwords=request.generate_passwords,
        client_token=request.client_token,
        request_hash=digest,
    )
    stored = deps.ops.create(op)
    if stored.operation_id != operation_id:
        # the same token and body, made meanwhile by a twin request
        return _started(deps, stored), False
    return _started(deps, op), True


def _started(deps: OperationDeps, op: Operation) -> Operation:
    """`op` with its engine started. A stored operation whose start failed (503, or the API
    died first) is started by the request that repeats it with its client token: the
    execution's name is the operation's id, so a start that did succeed is never doubled."""
    if op.execution_arn is not None:
        return op
    arn = deps.engine.start_operation(
        op.operation_id,
        {
            "operation_id": op.operation_id,
            "items_key": op.items_key,
            "max_concurrency": op.max_concurrency,
        },
    )
    deps.ops.mark_started(op.operation_id, arn)
    return op.model_copy(update={"execution_arn": arn})


def tally(matched: int, found: Mapping[str, int]) -> dict[str, int]:
    """The operation's counts from its items' outcomes (pending: matched, no item yet)."""
    return {
        "matched": matched,
        "pending": max(0, matched - sum(found.values())),
        **{k: found.get(k, 0) for k in ("running", "succeeded", "failed", "rejected", "cancelled")},
    }


def view(ops: OperationRepository, op: Operation) -> OperationView:
    """The operation with its counts: stored once it ended, else counted from its items."""
    if op.final_counts is not None:
        return OperationView(op, dict(op.final_counts), op.status)
    counts = tally(op.matched, ops.outcome_counts(op.operation_id))
    status: OperationStatus = op.status
    if status == "queued" and counts["pending"] < op.matched:
        status = "running"
    return OperationView(op, counts, status)


def read_operation(ops: OperationRepository, org_id: str, operation_id: str) -> OperationView:
    return view(ops, ops.get(org_id, operation_id))


def list_operations(
    ops: OperationRepository, org_id: str, cursor: str | None
) -> tuple[list[OperationView], str | None]:
    try:
        found, last = ops.list_for_org(org_id, _cursor(cursor), PAGE_SIZE)
    except ValueError as error:  # another org's or another list's cursor
        raise InvalidRequestError(str(error), field="cursor") from error
    return [view(ops, op) for op in found], encode_cursor(last)


def list_operation_jobs(
    deps: OperationDeps,
    org_id: str,
    operation_id: str,
    outcome: str | None,
    cursor: str | None,
) -> tuple[list[OperationItem], str | None]:
    deps.ops.get(org_id, operation_id)  # another org's: NotFoundError
    try:
        items, last = deps.ops.list_items(operation_id, outcome, _cursor(cursor), PAGE_SIZE)
    except ValueError as error:
        raise InvalidRequestError(str(error), field="cursor") from error
    return _named(deps.jobs, items), encode_cursor(last)


def _named(jobs: JobRepository, items: list[OperationItem]) -> list[OperationItem]:
    """Items still claiming their job have no name yet (it is written when the run starts):
    read those jobs' names from their summaries, at most a page of them (the page polls)."""
    unnamed = [item.job_id for item in items if item.restaurant_name is None]
    if not unnamed:
        return items
    names = jobs.restaurant_names(unnamed)
    return [
        item
        if item.restaurant_name is not None or item.job_id not in names
        else item.model_copy(update={"restaurant_name": names[item.job_id]})
        for item in items
    ]


def cancel_operation(
    ops: OperationRepository, org_id: str, operation_id: str, *, actor: str
) -> OperationView:
    """Start no further job; runs already started finish. An ended operation is left as is."""
    op = ops.get(org_id, operation_id)
    if op.status not in TERMINAL_STATUSES:
        ops.request_cancel(operation_id, actor)
    return read_operation(ops, org_id, operation_id)


def _cursor(cursor: str | None) -> dict[str, Any] | None:
    try:
        return decode_cursor(cursor)
    except ValueError as error:
        raise InvalidRequestError(str(error), field="cursor") from error
