"""Request and response bodies of the HTTP API (README "The HTTP API"); the OpenAPI document is
generated from these.

Responses are allowlists: each view names the fields it shows, so nothing the domain keeps
(the password's secret reference, sub-step outputs) can leak by being added to a model later.
The execution config shows `password_set`, never the password or its reference.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from domain.batch_actions import (
    MAX_IDS_PER_BODY,
    MAX_JOBS_PER_REQUEST,
    MAX_RESTAURANTS_PER_BATCH,
    JobRejection,
    Settled,
)
from domain.onboarding import PASSWORD_RULE, ExecutionConfigInput, NewBatch, NewRestaurant
from domain.operator_actions import ConfigAmendment as ConfigAmendment  # the PATCH body
from domain.reads import JobDetails
from domain.runs import StartedRun
from domain.search import BatchOverview, BatchPage, FailureGroup, JobPage
from state.fields import Email, Text
from state.models import (
    AuditEvent,
    Batch,
    BatchStatus,
    CompanyCandidate,
    ContactCandidates,
    ErrorCode,
    ExecutionConfig,
    Job,
    JobListing,
    LastFailure,
    MenuConfig,
    OnboardingConfig,
    PhaseName,
    PhaseStatus,
    Prospect,
    Restaurant,
    RunRecord,
    RunStatus,
    RunTrigger,
    SkipReason,
    StepSource,
    StepStatus,
    SubStepProgress,
    SubStepStatus,
)

# A job's stored data must stay far below DynamoDB's 400 KB item limit.
MAX_RESTAURANT_BYTES = 200_000
MAX_CONFIG_BYTES = 16_000
MAX_PRICE_DECIMALS = 4

JobId = Annotated[str, StringConstraints(min_length=1, max_length=128)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Request(_Body):
    """A request body: strict types, as every model a request carries (docs §8.1)."""

    model_config = ConfigDict(extra="forbid", strict=True)


# ---------------------------------------------------------------------- errors


class FieldError(_Body):
    field: str = Field(description="Dotted path of the offending field in the request body")
    message: str
    type: str
    used_by: list[str] | None = Field(
        default=None, description="On a 409 config_in_use: the completed sub-steps that read it"
    )


class ErrorBody(BaseModel):
    """Every error answers this shape; `error` is machine-readable, `message` is for people."""

    statusCode: int  # noqa: N815 - the field Powertools' own error bodies use
    error: str = Field(
        description="not_found, already_running (a Step 6 run is active), conflict (the job "
        "changed meanwhile: try again), not_resumable, step5_completed, step5_not_completed, "
        "not_running, config_in_use, not_rerunnable, not_completed, blocking_sub_step, "
        "not_failed, validation_error, unsupported_media_type, too_large, unauthorized, "
        "start_failed, stop_failed, password_store_unavailable or internal_error"
    )
    message: str
    active_execution: str | None = Field(
        default=None, description="On a 409 already_running: the active execution's ARN"
    )
    fields: list[FieldError] | None = Field(
        default=None,
        description="On a 422: each invalid field and why; on a 409 config_in_use: each field "
        "that may no longer change and the sub-steps that used it",
    )


# ---------------------------------------------------------------------- requests


class CreateBatchRequest(NewBatch):
    """A batch: one job per restaurant, each given either whole (Steps 1-4 provided: menu,
    branding, company) or by its name and website (`{"name", "website_url"}`, optional
    `email` and `phone`): Steps 1-4 then find the rest, starting at once.

    Values are strictly typed (a string is never a number, 0 never false). Names and other
    text: not blank, no control characters, no bidi overrides or isolates. Emails: an address
    without display name, stored as given. URLs: http(s) with a public host (no IP address in a
    private, loopback, link-local or unique-local range, no localhost), no whitespace."""

    # One request stays well within API Gateway's 29 s: at most 500 restaurants (the domain
    # allows larger batches, built by other means).
    restaurants: list[NewRestaurant] = Field(min_length=1, max_length=MAX_RESTAURANTS_PER_BATCH)

    @model_validator(mode="after")
    def _storable(self) -> CreateBatchRequest:
        for i, restaurant in enumerate(self.restaurants):
            if not isinstance(restaurant, Restaurant):
                continue
            if len(restaurant.model_dump_json()) > MAX_RESTAURANT_BYTES:
                raise ValueError(f"restaurants.{i} is larger than {MAX_RESTAURANT_BYTES} bytes")
            for path, price in _prices(restaurant):
                exponent = Decimal(repr(price)).as_tuple().exponent
                if isinstance(exponent, int) and exponent < -MAX_PRICE_DECIMALS:
                    raise ValueError(
                        f"restaurants.{i}.{path} has more than {MAX_PRICE_DECIMALS} decimal places"
                    )
        return self


def _prices(restaurant: Restaurant) -> list[tuple[str, float]]:
    found: list[tuple[str, float]] = []
    for c, category in enumerate(restaurant.menu.categories):
        for i, item in enumerate(category.items):
            at = f"menu.categories.{c}.items.{i}"
            found.append((f"{at}.price", item.price))
            for s, option_set in enumerate(item.option_sets):
                for o, option in enumerate(option_set.options):
                    found.append((f"{at}.option_sets.{s}.options.{o}.price", option.price))
    return found


class Step2Answer(_Request):
    """The restaurant's contact details, as the operator chose or typed them."""

    email: Email
    phone: str = Field(
        min_length=3, max_length=40, description="A valid phone number; stored in E.164 form"
    )


class Step3Answer(_Request):
    """The restaurant's company: one of Step 3's candidates, or any number the register knows."""

    company_number: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")


class Step5Job(_Request):
    job_id: JobId
    execution_config: ExecutionConfigInput = Field(
        description=f"Yolo Mode configuration. account.password: {PASSWORD_RULE}; required "
        "when registerNewUser is true and cloudwaitressAccount is not switched off. "
        "steps_enabled is keyed by sub-step name; a sub-step it leaves out is enabled. "
        "menu.selectedMenuId, when set, is the job's own menu id (else the job is rejected "
        'with invalid_config). Values are strictly typed: true/false, never 0 or "yes".'
    )

    @model_validator(mode="after")
    def _complete(self) -> Step5Job:
        config = self.execution_config
        if len(config.model_dump_json()) > MAX_CONFIG_BYTES:
            raise ValueError(f"execution_config is larger than {MAX_CONFIG_BYTES} bytes")
        return self


class Step5Request(_Request):
    jobs: list[Step5Job] = Field(
        min_length=1,
        max_length=MAX_IDS_PER_BODY,
        description=f"At most {MAX_JOBS_PER_REQUEST} jobs (more: 422 naming POST /operations)",
    )

    @model_validator(mode="after")
    def _one_config_per_job(self) -> Step5Request:
        seen: set[str] = set()
        for i, entry in enumerate(self.jobs):
            if entry.job_id in seen:
                raise ValueError(f"jobs.{i}.job_id {entry.job_id} appears more than once")
            seen.add(entry.job_id)
        return self


class ResumeBatchRequest(_Request):
    job_ids: list[JobId] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_IDS_PER_BODY,
        description=f"Jobs to resume; duplicates count once; unknown ids are rejected one by "
        f"one. Left out: every job of the batch. At most {MAX_JOBS_PER_REQUEST} jobs either "
        "way (more: 422 naming POST /operations)",
    )


class RerunRequest(_Request):
    sub_steps: list[str] = Field(
        min_length=1, max_length=12, description="Completed sub-steps to run again"
    )


class SkipRequest(_Request):
    reason: Text = Field(min_length=1, max_length=500, description="Why it may be left undone")


# ---------------------------------------------------------------------- responses: actions


class StartedJob(_Body):
    job_id: str
    execution_arn: str
    resume_from: PhaseName

    @classmethod
    def of(cls, run: StartedRun) -> StartedJob:
        return cls(job_id=run.job_id, execution_arn=run.execution_arn, resume_from=run.resume_from)


class RejectedJob(_Body):
    job_id: str
    code: str = Field(
        description="not_found, already_running, not_resumable, step5_completed, "
        "invalid_config, conflict (the job changed meanwhile: try again) or start_failed"
    )
    reason: str
    active_execution: str | None = None

    @classmethod
    def of(cls, rejection: JobRejection) -> RejectedJob:
        return cls(
            job_id=rejection.job_id,
            code=rejection.code,
            reason=rejection.reason,
            active_execution=rejection.active_execution,
        )


class SettledJobs(_Body):
    """All-settled: every job named is in exactly one of the two lists, in request order."""

    accepted: list[StartedJob]
    rejected: list[RejectedJob]

    @classmethod
    def of(cls, settled: Settled) -> SettledJobs:
        return cls(
            accepted=[StartedJob.of(r) for r in settled.accepted],
            rejected=[RejectedJob.of(r) for r in settled.rejected],
        )


# ---------------------------------------------------------------------- responses: views


class StepView(_Body):
    step: int
    name: str
    status: StepStatus
    source: StepSource | None = None
    completed_at: datetime | None = None


class SubStepView(_Body):
    status: SubStepStatus
    attempts: int
    error: str | None = Field(default=None, description="Why it failed, in a sentence")
    error_code: ErrorCode | None = None
    retryable: bool | None = Field(
        default=None, description="A plain resume can be expected to help (nothing to fix)"
    )
    platform_code: str | None = Field(
        default=None, description="The platform's own reason code, when it gave one"
    )
    skip_reason: SkipReason | None = None
    blocked_by: list[str] | None = Field(
        default=None, description="A dependency_not_met skip: the dependencies not completed"
    )
    skip_note: str | None = Field(default=None, description="An operator's skip: the reason")
    skipped_by: str | None = None
    generation: int = Field(
        default=0, description="How many times an operator has re-run it (its key generation)"
    )
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_ms: int | None = None

    @classmethod
    def of(cls, sub: SubStepProgress) -> SubStepView:
        return cls(
            status=sub.status,
            attempts=sub.attempts,
            error=sub.error,
            error_code=sub.error_code,
            retryable=sub.retryable,
            platform_code=sub.platform_code,
            skip_reason=sub.skip_reason,
            blocked_by=sub.blocked_by,
            skip_note=sub.skip_note,
            skipped_by=sub.skipped_by,
            generation=sub.generation,
            started_at=sub.started_at,
            finished_at=sub.finished_at,
            duration_ms=sub.duration_ms,
        )


class PhaseView(_Body):
    status: PhaseStatus
    sub_steps: dict[str, SubStepView]


class SubStepProgressView(_Body):
    current_phase: PhaseName | None = None
    last_completed_phase: PhaseName | None = None
    phases: dict[PhaseName, PhaseView]


class Step6View(_Body):
    status: StepStatus
    sub_step_progress: SubStepProgressView


class Step6Summary(_Body):
    status: StepStatus
    current_phase: PhaseName | None = None
    last_completed_phase: PhaseName | None = None
    phases: dict[PhaseName, PhaseStatus]


class LastFailureView(_Body):
    step: int | None = Field(default=None, description="Steps 1-4: the step that failed")
    phase: PhaseName | None = None
    sub_step: str | None = None
    error: str = Field(description="Why it failed, in a sentence (no ids, keys or envelopes)")
    error_code: ErrorCode
    retryable: bool = Field(
        description="true: a plain resume can be expected to help; false: change something first"
    )
    platform_code: str | None = None
    at: datetime
    execution: str | None = None
    execution_error: str | None = Field(
        default=None, description="Step Functions' name for how the run failed"
    )

    @classmethod
    def of(cls, failure: LastFailure | None) -> LastFailureView | None:
        if failure is None:
            return None
        return cls(
            step=failure.step,
            phase=failure.phase,
            sub_step=failure.sub_step,
            error=failure.error,
            error_code=failure.error_code,
            retryable=failure.retryable,
            platform_code=failure.platform_code,
            at=failure.at,
            execution=failure.execution,
            execution_error=failure.execution_error,
        )


class AccountView(_Body):
    registerNewUser: bool  # noqa: N815 - the seed's field names
    email: str
    password_set: bool = Field(
        description="A password was given: kept in Secrets Manager until the platform account "
        "exists, then deleted"
    )


class ExecutionConfigView(_Body):
    account: AccountView
    menu: MenuConfig
    onboarding: OnboardingConfig
    steps_enabled: dict[str, bool]

    @classmethod
    def of(cls, config: ExecutionConfig | None) -> ExecutionConfigView | None:
        if config is None:
            return None
        return cls(
            account=AccountView(
                registerNewUser=config.account.registerNewUser,
                email=str(config.account.email),
                password_set=config.account.password_given,
            ),
            menu=config.menu,
            onboarding=config.onboarding,
            steps_enabled=dict(config.steps_enabled),
        )


def _job_fields(details: JobDetails) -> dict[str, Any]:
    """What a job summary and a job view both show, read once."""
    job = details.job
    return {
        "job_id": job.job_id,
        "batch_id": job.batch_id,
        "status": job.status,
        "current_step": job.current_step,
        "steps": [
            StepView(
                step=s.step,
                name=s.name,
                status=s.status,
                source=s.source,
                completed_at=s.completed_at,
            )
            for s in job.steps
        ],
        "last_failure": LastFailureView.of(job.last_failure),
        "resumable": details.resumable,
        "resume_from": details.resume_from,
        "active_execution": job.active_execution,
        "updated_at": job.updated_at,
    }


class JobSummary(_Body):
    """A job as lists show it: its standing, from its stored summary (never its progress)."""

    job_id: str
    batch_id: str
    restaurant_name: str
    status: StepStatus
    current_step: int
    steps: list[StepView]
    step6: Step6Summary
    last_failure: LastFailureView | None
    resumable: bool
    resume_from: PhaseName | None
    active_execution: str | None
    updated_at: datetime = Field(description="When the job's standing last changed")
    failed_sub_step: str | None = Field(
        default=None, description="Where the job failed (its last failure, else the first failed)"
    )
    error_code: ErrorCode | None = None
    short_error: str | None = Field(default=None, description="Why, in at most 200 characters")

    @classmethod
    def of(cls, listing: JobListing) -> JobSummary:
        s = listing.summary
        return cls(
            job_id=listing.job_id,
            batch_id=listing.batch_id,
            restaurant_name=s.restaurant_name,
            status=listing.status,
            current_step=listing.current_step,
            steps=[
                StepView(
                    step=x.step,
                    name=x.name,
                    status=x.status,
                    source=x.source,
                    completed_at=x.completed_at,
                )
                for x in listing.steps
            ],
            step6=Step6Summary(
                status=s.step6_status,
                current_phase=s.current_phase,
                last_completed_phase=s.last_completed_phase,
                phases=s.phases,
            ),
            last_failure=LastFailureView.of(listing.last_failure),
            resumable=s.resumable,
            resume_from=s.resume_from,
            active_execution=listing.active_execution,
            updated_at=s.updated_at,
            failed_sub_step=s.failed_sub_step,
            error_code=s.error_code,
            short_error=s.short_error,
        )


class JobList(_Body):
    """A page of a batch's jobs that match the query."""

    jobs: list[JobSummary]
    next_cursor: str | None = Field(description="The next page's cursor; null on the last page")
    total: int = Field(description="How many jobs match the query (all pages)")

    @classmethod
    def of(cls, page: JobPage) -> JobList:
        return cls(
            jobs=[JobSummary.of(x) for x in page.jobs],
            next_cursor=page.next_cursor,
            total=page.total,
        )


class FailureGroupView(_Body):
    step: int | None = Field(description="Steps 1-4: the step that failed (retry it)")
    phase: PhaseName | None
    sub_step: str | None
    error_code: ErrorCode | None
    platform_code: str | None
    sample_error: str | None = Field(description="One job's error, at most 200 characters")
    count: int
    resumable_count: int = Field(description="How many of them a plain resume would restart")
    job_ids: list[str] = Field(description="The jobs of the group (the first 1,000)")


class FailureList(_Body):
    """The jobs that need action, grouped by cause, biggest group first."""

    groups: list[FailureGroupView]

    @classmethod
    def of(cls, groups: list[FailureGroup]) -> FailureList:
        # the view's fields are the group's own: read them by name
        views = [FailureGroupView.model_validate(g, from_attributes=True) for g in groups]
        return cls(groups=views)


class SiteView(_Body):
    """What Step 1 read from the restaurant's website."""

    url: str = Field(description="The page read, after redirects")
    categories: int
    items: int
    skipped_items: int = Field(description="Menu items left out (no price, or invalid)")


class Step2View(_Body):
    candidates: ContactCandidates = Field(
        description="The distinct emails and phones (E.164) found, and where"
    )


class Step3View(_Body):
    candidates: list[CompanyCandidate] = Field(
        description="The company register's matches for the restaurant's name, best first"
    )
    search_error: str | None = Field(
        default=None, description="Why the register could not be searched (type a number)"
    )
    company_number: str | None = Field(default=None, description="The operator's choice")


class JobView(_Body):
    """One job: steps 1-6, the redacted execution config, Step 6 progress, resume facts, and
    for a job created from a website what Steps 1-3 found."""

    job_id: str
    batch_id: str
    restaurant: Restaurant | Prospect = Field(
        description="Whole once Steps 1-4 are done or provided; until then what is known"
    )
    site: SiteView | None = None
    step2: Step2View | None = None
    step3: Step3View | None = None
    status: StepStatus
    current_step: int
    steps: list[StepView]
    execution_config: ExecutionConfigView | None
    step6: Step6View
    last_failure: LastFailureView | None
    resumable: bool = Field(description="A resume would do something (POST resume-step-6)")
    resume_from: PhaseName | None = Field(description="The phase a resume would start at")
    active_execution: str | None
    latest_execution: str | None
    run_number: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, details: JobDetails) -> JobView:
        job = details.job
        progress = job.step6_progress
        pipeline = job.pipeline
        return cls(
            **_job_fields(details),
            restaurant=job.restaurant,
            site=SiteView.model_validate(pipeline.site, from_attributes=True)
            if pipeline and pipeline.site
            else None,
            step2=Step2View(candidates=pipeline.contacts)
            if pipeline and pipeline.contacts
            else None,
            step3=Step3View(
                candidates=pipeline.companies or [],
                search_error=pipeline.companies_error,
                company_number=pipeline.company_number,
            )
            if pipeline and (pipeline.companies is not None or pipeline.company_number)
            else None,
            execution_config=ExecutionConfigView.of(job.execution_config),
            step6=Step6View(
                status=job.step(6).status,
                sub_step_progress=SubStepProgressView(
                    current_phase=details.current_phase,
                    last_completed_phase=details.last_completed_phase,
                    phases={
                        name: PhaseView(
                            status=details.phase_statuses[name],
                            sub_steps={
                                sub_name: SubStepView.of(sub)
                                for sub_name, sub in phase.sub_steps.items()
                            },
                        )
                        for name, phase in progress.phases.items()
                    },
                ),
            ),
            latest_execution=job.latest_execution,
            run_number=job.run_number,
            created_at=job.created_at,
        )


class BatchSummary(_Body):
    batch_id: str
    name: str
    status: BatchStatus
    job_counts: dict[StepStatus, int]
    job_total: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def fields_of(cls, batch: Batch, status: BatchStatus) -> dict[str, Any]:
        return {
            "batch_id": batch.batch_id,
            "name": batch.name,
            "status": status,
            "job_counts": {s: batch.job_counts.get(s, 0) for s in StepStatus},
            "job_total": sum(batch.job_counts.values()),
            "created_at": batch.created_at,
            "updated_at": batch.updated_at,
        }

    @classmethod
    def of(cls, batch: Batch, status: BatchStatus) -> BatchSummary:
        return cls(**cls.fields_of(batch, status))


class BatchList(_Body):
    batches: list[BatchSummary]
    next_cursor: str | None = Field(description="The next page's cursor; null on the last page")

    @classmethod
    def of(cls, overviews: list[BatchOverview], next_cursor: str | None) -> BatchList:
        return cls(
            batches=[BatchSummary.of(o.batch, o.status) for o in overviews],
            next_cursor=next_cursor,
        )


class BatchView(BatchSummary):
    jobs: list[JobSummary] = Field(description="The first 100 jobs, oldest first")
    next_cursor: str | None = Field(
        description="A cursor for GET /registration-batches/{batchId}/jobs (the default "
        "query) to read the following jobs; null when these are all"
    )

    @classmethod
    def of_page(cls, page: BatchPage) -> BatchView:
        return cls(
            **BatchSummary.fields_of(page.overview.batch, page.overview.status),
            jobs=[JobSummary.of(x) for x in page.jobs.jobs],
            next_cursor=page.jobs.next_cursor,
        )


class CreatedJob(_Body):
    job_id: str
    restaurant_name: str
    status: StepStatus
    current_step: int


class CreatedBatch(_Body):
    batch_id: str
    name: str
    status: BatchStatus
    jobs: list[CreatedJob]

    @classmethod
    def of(cls, batch: Batch, status: BatchStatus, jobs: list[Job]) -> CreatedBatch:
        return cls(
            batch_id=batch.batch_id,
            name=batch.name,
            status=status,
            jobs=[
                CreatedJob(
                    job_id=j.job_id,
                    restaurant_name=j.restaurant.name,
                    status=j.status,
                    current_step=j.current_step,
                )
                for j in jobs
            ],
        )


class EventView(_Body):
    at: datetime
    type: str
    actor: str = Field(description="Who did it: a user, `console`, or `system`")
    detail: dict[str, Any]


class EventList(_Body):
    """The job's audit trail, oldest first."""

    events: list[EventView]

    @classmethod
    def of(cls, events: list[AuditEvent]) -> EventList:
        return cls(
            events=[EventView(at=e.at, type=e.type, actor=e.actor, detail=e.detail) for e in events]
        )


class RunSubStepView(_Body):
    status: SubStepStatus
    attempts: int = Field(description="Attempts made in this run")
    started_at: datetime | None = None
    ended_at: datetime | None = None
    error_code: ErrorCode | None = None
    error: str | None = None
    skip_reason: SkipReason | None = None


class RunView(_Body):
    run: int = Field(description="Run 1 is the first; a redrive is a run of its own")
    execution_arn: str
    trigger: RunTrigger
    actor: str
    resume_from: PhaseName | None
    started_at: datetime
    ended_at: datetime | None
    status: RunStatus
    step6_status: StepStatus | None = Field(description="Step 6's status as this run left it")
    error_code: ErrorCode | None
    sub_steps: dict[str, RunSubStepView] = Field(
        description="Each sub-step this run attempted or skipped, and what came of it"
    )


class RunList(_Body):
    """The job's runs, newest first (the newest 20 are kept)."""

    runs: list[RunView]

    @classmethod
    def of(cls, runs: list[RunRecord]) -> RunList:
        return cls(
            runs=[
                RunView(
                    run=r.run,
                    execution_arn=r.execution_arn,
                    trigger=r.trigger,
                    actor=r.actor,
                    resume_from=r.resume_from,
                    started_at=r.started_at,
                    ended_at=r.ended_at,
                    status=r.status,
                    step6_status=r.step6_status,
                    error_code=r.error_code,
                    sub_steps={
                        name: RunSubStepView.model_validate(sub.model_dump())
                        for name, sub in r.sub_steps.items()
                    },
                )
                for r in runs
            ]
        )


class CancelledRun(_Body):
    job_id: str
    execution_arn: str = Field(description="The run asked to stop; the job settles when it has")


class RerunStarted(StartedJob):
    reset: list[str] = Field(
        description="The sub-steps set back to pending: those named and all that depend on them"
    )
