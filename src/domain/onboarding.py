"""Creating batches (Steps 1-4 provided) and submitting Step 5, which starts Step 6."""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    SecretStr,
    Tag,
    field_validator,
    model_validator,
)

from clients.executions import ExecutionRunner
from clients.secrets import SecretStore
from domain.catalogue import SUB_STEP_NAMES, sub_steps_of
from domain.claims import with_step
from domain.errors import InvalidRequestError, StepAlreadyCompletedError
from domain.pipeline import new_prospect_job
from domain.pipeline_actions import PipelineApiDeps, first_claim, start_created
from domain.readiness import ready
from domain.runs import StartedRun, start_run
from domain.summary import job_counts, listing_of
from state.errors import ConflictError
from state.fields import Email, SiteUrl, Text
from state.models import (
    PHASE_NAMES,
    STEP_NAMES,
    SYSTEM_ACTOR,
    AccountConfig,
    Batch,
    ExecutionConfig,
    Job,
    MenuConfig,
    OnboardingConfig,
    PhaseProgress,
    Prospect,
    Restaurant,
    RunTrigger,
    Step6Progress,
    StepSource,
    StepState,
    StepStatus,
    SubStepProgress,
    utc_now,
)
from state.repository import JobRepository

PASSWORD_RULE = (
    "at least 12 characters, at most 128, with at least one letter and one digit, "
    "and no leading or trailing spaces"
)


# Request models are strict: a JSON string is not a number, 0 is not False (docs §8.1).
STRICT_INPUT = ConfigDict(extra="forbid", strict=True)


class NewProspect(BaseModel):
    """A restaurant given by its name and website: Steps 1-4 find the rest (§14)."""

    model_config = STRICT_INPUT

    name: Text = Field(min_length=1, max_length=200)
    website_url: SiteUrl
    email: Email | None = None
    phone: Text | None = Field(default=None, max_length=40)


def _form_of(value: Any) -> str:
    """Which form a restaurant is given in: its website alone, or everything (Steps 1-4)."""
    if isinstance(value, dict) and "website_url" in value and "menu" not in value:
        return "website"
    if isinstance(value, NewProspect):
        return "website"
    return "full"


# The tags of the two forms (pydantic names the one it read a restaurant as in error locations).
RESTAURANT_FORMS = ("full", "website")
NewRestaurant = Annotated[
    Annotated[Restaurant, Tag("full")] | Annotated[NewProspect, Tag("website")],
    Discriminator(_form_of),
]


class NewBatch(BaseModel):
    model_config = STRICT_INPUT

    name: Text = Field(min_length=1, max_length=200)
    restaurants: list[NewRestaurant] = Field(min_length=1, max_length=1_000)


class AccountInput(BaseModel):
    model_config = STRICT_INPUT

    registerNewUser: bool = True  # noqa: N815
    email: Email
    password: SecretStr | None = Field(default=None, description=f"Password rule: {PASSWORD_RULE}")

    @field_validator("password")
    @classmethod
    def _password_rule(cls, value: SecretStr | None) -> SecretStr | None:
        return value if value is None else check_password_rule(value)


def check_password_rule(value: SecretStr) -> SecretStr:
    """The password rule, for Step 5 and for an amendment (raises ValueError: a 422)."""
    raw = value.get_secret_value()
    if not (
        12 <= len(raw) <= 128
        and re.search(r"[A-Za-z]", raw)
        and re.search(r"\d", raw)
        and raw == raw.strip()
    ):
        raise ValueError(f"password must be {PASSWORD_RULE}")
    return value


class ExecutionConfigInput(BaseModel):
    model_config = STRICT_INPUT

    account: AccountInput
    menu: MenuConfig = Field(default_factory=MenuConfig)
    onboarding: OnboardingConfig = Field(default_factory=OnboardingConfig)
    steps_enabled: dict[str, bool] = Field(default_factory=dict)

    @field_validator("steps_enabled")
    @classmethod
    def _known_sub_steps(cls, value: dict[str, bool]) -> dict[str, bool]:
        unknown = sorted(set(value) - set(SUB_STEP_NAMES))
        if unknown:
            raise ValueError(f"unknown sub-steps {unknown}; known: {list(SUB_STEP_NAMES)}")
        return value

    @model_validator(mode="after")
    def _password_when_needed(self) -> ExecutionConfigInput:
        # The one place of this rule: a new account needs a password.
        needs = self.account.registerNewUser and self.steps_enabled.get(
            "cloudwaitressAccount", True
        )
        if needs and self.account.password is None:
            raise ValueError(
                "account.password is required when registerNewUser is true "
                "(and cloudwaitressAccount is not switched off)"
            )
        return self


def new_job(batch_id: str, org_id: str, restaurant: Restaurant) -> Job:
    now = utc_now()
    steps = [
        StepState(
            step=n,
            name=STEP_NAMES[n],
            status=StepStatus.COMPLETED,
            source=StepSource.PROVIDED,
            completed_at=now,
        )
        for n in (1, 2, 3, 4)
    ] + [
        StepState(step=5, name=STEP_NAMES[5], status=StepStatus.ACTION_REQUIRED),
        StepState(step=6, name=STEP_NAMES[6], status=StepStatus.PENDING),
    ]
    progress = Step6Progress(
        phases={
            phase: PhaseProgress(sub_steps={s.name: SubStepProgress() for s in sub_steps_of(phase)})
            for phase in PHASE_NAMES
        }
    )
    return Job(
        job_id=uuid.uuid4().hex,
        batch_id=batch_id,
        org_id=org_id,
        restaurant=restaurant,
        status=StepStatus.ACTION_REQUIRED,
        current_step=5,
        steps=steps,
        step6_progress=progress,
        created_at=now,
        updated_at=now,
    )


def create_batch(
    jobs: JobRepository,
    org_id: str,
    request: NewBatch,
    *,
    pipelines: PipelineApiDeps | None = None,
    actor: str = SYSTEM_ACTOR,
) -> tuple[Batch, list[Job]]:
    """Store the batch and its jobs. A job given by its website is stored held by its first
    JobPipeline execution, which starts once every job is stored (Step 1 at once)."""
    batch = Batch(batch_id=uuid.uuid4().hex, org_id=org_id, name=request.name)
    if pipelines is None and not all(isinstance(r, Restaurant) for r in request.restaurants):
        raise ValueError("restaurants given by their website need the JobPipeline (pipelines)")
    new_jobs = [
        new_job(batch.batch_id, org_id, r)
        if isinstance(r, Restaurant)
        else first_claim(
            new_prospect_job(batch.batch_id, org_id, Prospect(**r.model_dump())),
            pipelines.executions,  # type: ignore[union-attr]  # checked above
        )
        for r in request.restaurants
    ]
    jobs.create_batch(batch, new_jobs)
    jobs.append_events(
        [(j.job_id, "job_created", {"batch_id": batch.batch_id}) for j in new_jobs], actor=actor
    )
    if pipelines is not None:
        start_created(pipelines, new_jobs)
    counts = job_counts(listing_of(job) for job in new_jobs)
    return batch.model_copy(update={"job_counts": counts}), new_jobs


def check_selected_menu(job: Job, selected: str | None) -> None:
    """`menu.selectedMenuId`, when given, names the job's own menu (a job has one menu)."""
    menu_id = ready(job).menu.menu_id
    if selected is not None and selected != menu_id:
        raise InvalidRequestError(
            f"execution_config.menu.selectedMenuId {selected!r} is not the menu of job "
            f"{job.job_id} (its menu is {menu_id!r})",
            field="execution_config.menu.selectedMenuId",
        )


def submit_step5(
    jobs: JobRepository,
    secrets: SecretStore,
    executions: ExecutionRunner,
    job: Job,
    config: ExecutionConfigInput,
    *,
    actor: str = SYSTEM_ACTOR,
    trigger: RunTrigger = "step5",
    operation_id: str | None = None,
) -> StartedRun:
    """Complete Step 5 with `config` and start Step 6; a completed Step 5 cannot change."""
    if job.step(5).status == StepStatus.COMPLETED:
        raise StepAlreadyCompletedError(
            f"Step 5 of job {job.job_id} is already completed; its configuration is locked"
        )
    if job.active_execution is not None:
        raise ConflictError("a Step 6 run is already active", active_execution=job.active_execution)
    ready(job)
    check_selected_menu(job, config.menu.selectedMenuId)
    ref = (
        secrets.put_password(job.job_id, config.account.password.get_secret_value())
        if config.account.password is not None
        else None
    )
    stored = ExecutionConfig(
        account=AccountConfig(
            registerNewUser=config.account.registerNewUser,
            email=config.account.email,
            password_secret_ref=ref,
        ),
        menu=config.menu,
        onboarding=config.onboarding,
        steps_enabled=config.steps_enabled,
    )
    steps = [
        s.model_copy(update={"source": StepSource.USER, "completed_at": utc_now()})
        if s.step == 5
        else s
        for s in with_step(job.steps, 5, StepStatus.COMPLETED)
    ]
    # Step 5 completes in the same conditional write that claims the job for its first run.
    return start_run(
        jobs,
        executions,
        job,
        reason="step5_submitted",
        trigger=trigger,
        actor=actor,
        steps=steps,
        execution_config=stored,
        operation_id=operation_id,
    )
