"""Persisted shapes of batches, jobs and Step 6 progress.

These models are the contract between the repository (which stores them in DynamoDB) and the
domain (which reasons over them with pure functions). They carry no behaviour beyond
validation and small derived properties.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator

from state.fields import Email, OptionalText, SiteUrl, Text, WebUrl

PhaseName = Literal["phase1", "phase2", "phase3", "phase4"]
PHASE_NAMES: tuple[PhaseName, ...] = ("phase1", "phase2", "phase3", "phase4")

# ---------------------------------------------------------------- size limits
# Sizes in bytes are counted as DynamoDB counts them: attribute names plus values, with list and
# map overhead (state.item_size; DynamoDB Local agrees to the byte, see docs/dynamodb-local.md).
# Together these limits keep every job item under DynamoDB's item limit, whatever happens.

# DynamoDB's item limit (AWS and DynamoDB Local; moto 5.2.5 stops at 405,000 and counts less).
DYNAMODB_ITEM_LIMIT_BYTES = 400 * 1024
# An error message as stored: longer ones are truncated (on serialisation, so every path that
# stores an error, including a settlement with a long Step Functions cause, honours it).
MAX_ERROR_CHARS = 1_000
TRUNCATION_MARK = "… [truncated]"
# One sub-step output, measured as DynamoDB counts it: larger results belong in the object store
# (state.item_size.check_output, applied by the runner and by the repository).
MAX_OUTPUT_BYTES = 8_000
# The most Step 6 can add to a job item: 12 sub-steps, each at most its output, an error of
# MAX_ERROR_CHARS four-byte characters and ~400 bytes of names and fields (12 x 12,400), plus
# last_failure (~4,300), the execution config, the execution ARNs and status fields (~3,000).
STEP6_RESERVE_BYTES = 160 * 1024
# A whole job item when it is created (restaurant, menu, steps, initial progress): checked by the
# repository before anything is written, so that Step 6 always has its reserve.
JOB_ITEM_LIMIT_BYTES = DYNAMODB_ITEM_LIMIT_BYTES - STEP6_RESERVE_BYTES  # 240 KiB


def truncate_error(message: str) -> str:
    """`message` cut to MAX_ERROR_CHARS, marked as cut; shorter ones are returned unchanged."""
    if len(message) <= MAX_ERROR_CHARS:
        return message
    return message[: MAX_ERROR_CHARS - len(TRUNCATION_MARK)] + TRUNCATION_MARK


def utc_now() -> datetime:
    return datetime.now(UTC)


class StepStatus(StrEnum):
    """A step's status, and a job's: a job is in the state of its current step (the seed's).

    `completed_with_errors` is Step 6's only: its run ended with non-blocking sub-steps failed
    or skipped for a failed dependency. The job itself then stays `completed` (the seed's
    states), and its batch counts it under `completed_with_errors` (`tally_of`).
    """

    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    ACTION_REQUIRED = "action_required"
    COMPLETED = "completed"
    COMPLETED_WITH_ERRORS = "completed_with_errors"
    FAILED = "failed"


class BatchStatus(StrEnum):
    PENDING = "pending"
    ACTION_REQUIRED = "action_required"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    COMPLETED_WITH_ERRORS = "completed_with_errors"
    FAILED = "failed"


class SubStepStatus(StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"


class SkipReason(StrEnum):
    DISABLED = "disabled"
    DEPENDENCY_NOT_MET = "dependency_not_met"
    # An operator accepted a failed non-blocking sub-step as skipped: final, like `disabled`.
    OPERATOR = "operator"


class ErrorCode(StrEnum):
    """Why a sub-step or a run failed: one stable code per condition (the page branches on it)."""

    PLATFORM_REJECTED = "platform_rejected"  # a permanent platform answer
    PLATFORM_UNAVAILABLE = "platform_unavailable"  # transient errors, retries used up
    INTERRUPTED = "interrupted"  # the function died or the run stopped mid-sub-step
    TIMED_OUT = "timed_out"  # the run hit its time limit
    ABORTED = "aborted"  # cancelled (StopExecution)
    OUTPUT_TOO_LARGE = "output_too_large"  # the sub-step's result is over its size limit
    INVALID_CONFIG = "invalid_config"  # the config cannot be used as it is
    INTERNAL_ERROR = "internal_error"  # a fault of this system, not of the platform or config
    # Steps 1-4 (docs/architecture.md §14)
    SITE_UNREACHABLE = "site_unreachable"  # Step 1: the website could not be fetched
    NO_MENU_FOUND = "no_menu_found"  # Step 1: the website carries no schema.org menu
    REGISTER_UNAVAILABLE = "register_unavailable"  # a directory or register look-up kept failing
    REGISTER_REJECTED = "register_rejected"  # the directory or register refused the look-up


# Whether a plain resume can be expected to help: nothing has to change first.
RETRYABLE_CODES = frozenset(
    {
        ErrorCode.PLATFORM_UNAVAILABLE,
        ErrorCode.INTERRUPTED,
        ErrorCode.TIMED_OUT,
        ErrorCode.ABORTED,
        ErrorCode.SITE_UNREACHABLE,
        ErrorCode.REGISTER_UNAVAILABLE,
    }
)


class PhaseStatus(StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    COMPLETED_WITH_ERRORS = "completed_with_errors"
    FAILED = "failed"


class StepSource(StrEnum):
    PROVIDED = "provided"
    USER = "user"
    AUTOMATION = "automation"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class _Input(_Model):
    """A model that requests carry in: strict types (no "5" → 5, no "yes" → True, no 0 →
    False; a JSON number is a float where a float is expected), strings as `state.fields`
    rules them (docs/architecture.md §8.1)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, strict=True)


# ---------------------------------------------------------------- restaurant data (steps 1-4)


class Branding(_Input):
    primary_color: str = Field(pattern=r"^#[0-9a-fA-F]{6}$", examples=["#1a73e8"])
    secondary_color: str = Field(default="#ffffff", pattern=r"^#[0-9a-fA-F]{6}$")
    logo_url: WebUrl | None = None
    font: Text = Field(default="Inter", min_length=1, max_length=80)


class MenuOption(_Input):
    name: Text = Field(min_length=1, max_length=200)
    price: float = Field(default=0, ge=0, le=100_000)


class MenuOptionSet(_Input):
    name: Text = Field(min_length=1, max_length=200)
    required: bool = False
    multi_select: bool = False
    options: list[MenuOption] = Field(min_length=1, max_length=100)


class MenuItem(_Input):
    name: Text = Field(min_length=1, max_length=200)
    description: OptionalText = Field(default="", max_length=2_000)
    price: float = Field(ge=0, le=100_000)
    image_url: WebUrl | None = None
    option_sets: list[MenuOptionSet] = Field(default_factory=list, max_length=50)
    tags: list[Annotated[Text, Field(max_length=100)]] = Field(default_factory=list, max_length=50)


class MenuCategory(_Input):
    name: Text = Field(min_length=1, max_length=200)
    items: list[MenuItem] = Field(default_factory=list, max_length=500)


class Menu(_Input):
    menu_id: Text = Field(min_length=1, max_length=128)
    categories: list[MenuCategory] = Field(default_factory=list, max_length=100)


class Company(_Input):
    name: Text = Field(min_length=1, max_length=200)
    number: Text | None = Field(default=None, max_length=64)
    # From the company register (Step 4); a provided company may leave them out.
    address: Text | None = Field(default=None, max_length=500)
    directors: list[Annotated[Text, Field(max_length=200)]] | None = Field(
        default=None, max_length=50
    )


class Restaurant(_Input):
    """A restaurant with everything Steps 5 and 6 need (Steps 1-4 done or provided)."""

    name: Text = Field(min_length=1, max_length=200)
    email: Email
    phone: Text | None = Field(default=None, max_length=40)
    branding: Branding
    menu: Menu
    company: Company
    website_url: SiteUrl | None = None


class Prospect(_Input):
    """A restaurant known by its name and website while Steps 1-4 find the rest
    (docs/architecture.md §14); it becomes a `Restaurant` when Step 4 completes."""

    name: Text = Field(min_length=1, max_length=200)
    website_url: SiteUrl
    email: Email | None = None
    phone: Text | None = Field(default=None, max_length=40)
    branding: Branding | None = None
    menu: Menu | None = None
    company: Company | None = None


# ---------------------------------------------------------------- execution config (step 5)


class AccountConfig(_Model):
    registerNewUser: bool = True  # noqa: N815 - field names follow the seed's execution_config
    email: Email
    # Only a reference is stored; the password itself lives in Secrets Manager, until no
    # sub-step can read it any more: then the secret is deleted and the reference cleared.
    password_secret_ref: str | None = None
    password_deleted_at: datetime | None = None

    @property
    def password_given(self) -> bool:
        """A password was submitted (stored now, or deleted once it was no longer needed)."""
        return self.password_secret_ref is not None or self.password_deleted_at is not None


class MenuConfig(_Input):
    # When set, the id of the job's own menu (checked when Step 5 is applied to the job).
    selectedMenuId: str | None = Field(default=None, max_length=128)  # noqa: N815
    uploadImages: bool = False  # noqa: N815
    addOptionSets: bool = False  # noqa: N815
    addItemTags: bool = False  # noqa: N815


class OnboardingConfig(_Input):
    createOnboardingUser: bool = False  # noqa: N815
    syncOnboardingRecord: bool = False  # noqa: N815


class ExecutionConfig(_Model):
    account: AccountConfig
    menu: MenuConfig = Field(default_factory=MenuConfig)
    onboarding: OnboardingConfig = Field(default_factory=OnboardingConfig)
    # Keyed by sub-step name; a sub-step left out is enabled.
    steps_enabled: dict[str, bool] = Field(default_factory=dict)


# ---------------------------------------------------------------- step 6 progress


class SubStepProgress(_Model):
    status: SubStepStatus = SubStepStatus.PENDING
    attempts: int = 0
    output: dict[str, Any] | None = None
    # A failure: a sentence for people, its code, and the platform's own code when it gave one.
    error: str | None = None
    error_code: ErrorCode | None = None
    platform_code: str | None = Field(default=None, max_length=64)
    skip_reason: SkipReason | None = None
    # A `dependency_not_met` skip: the dependencies that were not completed.
    blocked_by: list[str] | None = None
    # An operator's skip: why, and who.
    skip_note: str | None = Field(default=None, max_length=500)
    skipped_by: str | None = Field(default=None, max_length=200)
    # How many times an operator has asked for a re-run: part of the idempotency key, so each
    # re-run takes effect once more, exactly once.
    generation: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def retryable(self) -> bool | None:
        return None if self.error_code is None else self.error_code in RETRYABLE_CODES

    # model_copy(update=...) skips validation; the serializer still bounds what is stored.
    @field_validator("error")
    @classmethod
    def _bound_error(cls, value: str | None) -> str | None:
        return None if value is None else truncate_error(value)

    @field_serializer("error")
    def _stored_error(self, value: str | None) -> str | None:
        return None if value is None else truncate_error(value)

    @property
    def duration_ms(self) -> int | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return int((self.finished_at - self.started_at).total_seconds() * 1000)


class PhaseProgress(_Model):
    # A phase's status is derived from its sub-steps and the config (domain.progress).
    sub_steps: dict[str, SubStepProgress] = Field(default_factory=dict)


class Step6Progress(_Model):
    phases: dict[PhaseName, PhaseProgress] = Field(default_factory=dict)

    def sub_step(self, phase: PhaseName, name: str) -> SubStepProgress:
        return self.phases[phase].sub_steps[name]


class LastFailure(_Model):
    # Steps 1-4: the step that failed (Step 6's failures name a phase and sub-step instead).
    step: int | None = Field(default=None, ge=1, le=4)
    phase: PhaseName | None = None
    sub_step: str | None = None
    error: str
    error_code: ErrorCode = ErrorCode.INTERNAL_ERROR
    platform_code: str | None = Field(default=None, max_length=64)
    at: datetime
    execution: str | None = None
    # Step Functions' name for how the execution failed (e.g. `States.Timeout`), when it did.
    execution_error: str | None = Field(default=None, max_length=200)

    @property
    def retryable(self) -> bool:
        return self.error_code in RETRYABLE_CODES

    @field_validator("error")
    @classmethod
    def _bound_error(cls, value: str) -> str:
        return truncate_error(value)

    @field_serializer("error")
    def _stored_error(self, value: str) -> str:
        return truncate_error(value)


class StepState(_Model):
    step: int = Field(ge=1, le=6)
    name: str
    status: StepStatus
    source: StepSource | None = None
    completed_at: datetime | None = None


STEP_NAMES: dict[int, str] = {
    1: "Menu & Branding Extraction",
    2: "Contact Details Search",
    3: "Company Selection",
    4: "Company Details Extraction",
    5: "Yolo Mode Configuration",
    6: "Pumpd Account Setup",
}


ContactSource = Literal["given", "site", "directory"]


class ContactCandidates(_Model):
    """Step 2's findings: the distinct emails and phones (E.164) and where they came from."""

    emails: list[str] = Field(default_factory=list)
    phones: list[str] = Field(default_factory=list)
    sources: list[ContactSource] = Field(default_factory=list)


class CompanyCandidate(_Model):
    company_number: str
    name: str
    address: str = ""


class SiteReading(_Model):
    """What Step 1 read from the website besides the menu and branding (kept for Step 2)."""

    url: str  # the page read, after redirects
    categories: int
    items: int
    skipped_items: int = 0
    emails: list[str] = Field(default_factory=list)
    phones: list[str] = Field(default_factory=list)


class Pipeline(_Model):
    """Steps 1-4 of a job created from a website (docs/architecture.md §14).

    `execution` holds the job while a JobPipeline execution works on it (one at a time, its
    writes conditional on it); `runs` counts the executions started, which names them.
    """

    execution: str | None = None
    runs: int = 0
    site: SiteReading | None = None
    contacts: ContactCandidates | None = None
    companies: list[CompanyCandidate] | None = None
    # Why the register search for Step 3 found nothing to offer, when it failed.
    companies_error: str | None = Field(default=None, max_length=MAX_ERROR_CHARS)
    company_number: str | None = None  # the operator's choice at Step 3


class Job(_Model):
    job_id: str
    batch_id: str
    org_id: str
    # A Prospect until Step 4 completes (jobs created from a website); tried in this order.
    restaurant: Restaurant | Prospect = Field(union_mode="left_to_right")
    pipeline: Pipeline | None = None
    status: StepStatus = StepStatus.PENDING
    current_step: int = Field(default=1, ge=1, le=6)
    steps: list[StepState]
    execution_config: ExecutionConfig | None = None
    step6_progress: Step6Progress = Field(default_factory=Step6Progress)
    last_failure: LastFailure | None = None
    active_execution: str | None = None
    # The most recent execution to claim the job; only it may be redriven.
    latest_execution: str | None = None
    run_number: int = 0
    # Rows of the runs history written so far (a redrive adds a row, not a run number).
    runs_recorded: int = 0
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)

    def step(self, number: int) -> StepState:
        return self.steps[number - 1]


def tally_of(status: StepStatus, steps: list[StepState]) -> StepStatus:
    """The batch counter a job counts under: its status, but a job whose Step 6 completed with
    errors is counted apart, so that a batch never reads "completed" for a restaurant without
    its menu."""
    step6 = next((s.status for s in steps if s.step == 6), None)
    if status == StepStatus.COMPLETED and step6 == StepStatus.COMPLETED_WITH_ERRORS:
        return StepStatus.COMPLETED_WITH_ERRORS
    return status


# ---------------------------------------------------------------- runs history

RunTrigger = Literal["step5", "resume", "redrive", "rerun", "operation", "console"]
RunStatus = Literal["running", "succeeded", "failed", "timed_out", "aborted"]
# The runs history keeps a job's newest RUNS_KEPT runs.
RUNS_KEPT = 20


class RunSubStep(_Model):
    """What one run did to one sub-step."""

    status: SubStepStatus
    attempts: int  # made in this run
    started_at: datetime | None = None
    ended_at: datetime | None = None
    error_code: ErrorCode | None = None
    error: str | None = None
    skip_reason: SkipReason | None = None

    @field_serializer("error")
    def _stored_error(self, value: str | None) -> str | None:
        return None if value is None else truncate_error(value)


class RunRecord(_Model):
    """One run of Step 6 (an execution, or a redrive of one): written when it is claimed,
    completed when it settles."""

    job_id: str
    run: int = Field(ge=1)
    execution_arn: str
    trigger: RunTrigger
    actor: str
    # The bulk operation that started the run (trigger `operation`; docs §13).
    operation_id: str | None = None
    resume_from: PhaseName | None = None
    started_at: datetime
    ended_at: datetime | None = None
    status: RunStatus = "running"
    step6_status: StepStatus | None = None
    error_code: ErrorCode | None = None
    # Each sub-step's (status, attempts) when the run started: the run did the difference.
    baseline: dict[str, tuple[SubStepStatus, int]] = Field(default_factory=dict)
    sub_steps: dict[str, RunSubStep] = Field(default_factory=dict)


class Batch(_Model):
    batch_id: str
    org_id: str
    name: str
    # Never stored: the domain counts the batch's jobs from their listings (domain.batch_counts,
    # by `tally_of`), so no write contends on the batch item; the batch status is derived from
    # these counts (domain.outcome.batch_status).
    job_counts: dict[StepStatus, int] = Field(default_factory=dict)
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)


# The actor of what the system does by itself (a settlement, a run's own events).
SYSTEM_ACTOR = "system"


class AuditEvent(_Model):
    job_id: str
    at: datetime
    type: str
    actor: str = SYSTEM_ACTOR
    detail: dict[str, Any] = Field(default_factory=dict)


# ---------------------------------------------------------------- listings (the jobs index)

# A summary's error, as lists show it (the job's own read has the whole message).
SHORT_ERROR_CHARS = 200


class JobSummaryFields(_Model):
    """What a job's standing says beyond its own top-level fields, derived by the domain
    (domain.summary.summarize) and stored on the job item in the same write as every change of
    its standing (creation, claim, release, settlement, operator actions, Step 5): never by a
    checkpoint, so a checkpoint writes nothing the listing index projects."""

    restaurant_name: str
    name_lower: str  # the name lower-cased (casefold), for search
    step6_status: StepStatus
    current_phase: PhaseName | None = None
    last_completed_phase: PhaseName | None = None
    phases: dict[PhaseName, PhaseStatus] = Field(default_factory=dict)
    failed_step: int | None = None  # Steps 1-4
    failed_phase: PhaseName | None = None
    failed_sub_step: str | None = None
    error_code: ErrorCode | None = None
    platform_code: str | None = None
    short_error: str | None = Field(default=None, max_length=SHORT_ERROR_CHARS)
    retryable: bool | None = None
    resumable: bool = False
    resume_from: PhaseName | None = None
    # A failure an operator has to act on: the job sits in the org's failures index.
    needs_action: bool = False
    updated_at: datetime = Field(default_factory=utc_now)  # when its standing last changed


class JobListing(_Model):
    """A job as the listing indexes project it: its standing, never its progress, config or
    restaurant. `summary` is None only for an item written before summaries existed."""

    job_id: str
    batch_id: str
    org_id: str
    status: StepStatus
    current_step: int
    steps: list[StepState]
    last_failure: LastFailure | None = None
    active_execution: str | None = None
    created_at: datetime
    summary: JobSummaryFields


# A job's summary from the job itself (the domain's rules; injected into the repository).
Summarize = Callable[[Job], JobSummaryFields]
