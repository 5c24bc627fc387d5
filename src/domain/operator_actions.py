"""An operator's fixes for one job: cancel its run, amend its config, re-run sub-steps, skip a
failed one. Each is scoped to the caller's org, refused while a run holds the job (but cancel),
audited with its actor, and never repeats a platform effect that was not asked for.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

from clients.executions import ExecutionRunner
from clients.secrets import SecretStore
from domain import fixes
from domain.audit import record_event
from domain.catalogue import SUB_STEP_NAMES, SUB_STEPS
from domain.errors import (
    BlockingSubStepError,
    ConfigInUseError,
    InvalidRequestError,
    NotCompletedError,
    NotFailedError,
    NotRerunnableError,
    NotResumableError,
    NotRunningError,
    StepNotCompletedError,
)
from domain.onboarding import STRICT_INPUT, check_password_rule, check_selected_menu
from domain.outcome import waits_for_resume
from domain.passwords import PASSWORD_READERS
from domain.planner import is_settled
from domain.reads import JobDetails, details
from domain.runs import StartedRun, start_run
from domain.settlement import reconcile_stale
from state.errors import ConflictError
from state.fields import Email
from state.models import (
    AccountConfig,
    ExecutionConfig,
    Job,
    MenuConfig,
    OnboardingConfig,
    SkipReason,
    StepStatus,
    SubStepProgress,
    SubStepStatus,
    utc_now,
)
from state.repository import JobRepository

# ---------------------------------------------------------------- the amendment's shape


class AccountAmendment(BaseModel):
    model_config = STRICT_INPUT

    registerNewUser: bool | None = None  # noqa: N815 - the execution config's names
    email: Email | None = None
    password: SecretStr | None = None

    @field_validator("password")
    @classmethod
    def _password_rule(cls, value: SecretStr | None) -> SecretStr | None:
        return value if value is None else check_password_rule(value)


class MenuAmendment(BaseModel):
    model_config = STRICT_INPUT

    selectedMenuId: str | None = Field(default=None, max_length=128)  # noqa: N815
    uploadImages: bool | None = None  # noqa: N815
    addOptionSets: bool | None = None  # noqa: N815
    addItemTags: bool | None = None  # noqa: N815


class OnboardingAmendment(BaseModel):
    model_config = STRICT_INPUT

    createOnboardingUser: bool | None = None  # noqa: N815
    syncOnboardingRecord: bool | None = None  # noqa: N815


def _no_nulls(value: Any, path: str = "") -> None:
    if value is None:
        raise ValueError(f"{path or 'the body'} is null: leave out a field that does not change")
    if isinstance(value, dict):
        for key, item in value.items():
            _no_nulls(item, f"{path}.{key}" if path else str(key))


class ConfigAmendment(BaseModel):
    """Step 5's shape with every field optional: only the fields given change (a null is
    refused, not read as "no change")."""

    model_config = STRICT_INPUT

    @model_validator(mode="before")
    @classmethod
    def _refuse_nulls(cls, data: Any) -> Any:
        _no_nulls(data)
        return data

    account: AccountAmendment | None = None
    menu: MenuAmendment | None = None
    onboarding: OnboardingAmendment | None = None
    steps_enabled: dict[str, bool] | None = None

    @field_validator("steps_enabled")
    @classmethod
    def _known_sub_steps(cls, value: dict[str, bool] | None) -> dict[str, bool] | None:
        unknown = sorted(set(value or {}) - set(SUB_STEP_NAMES))
        if unknown:
            raise ValueError(f"unknown sub-steps {unknown}; known: {list(SUB_STEP_NAMES)}")
        return value

    def given(self) -> dict[str, Any]:
        """The fields given, as plain values (the password left out: it is never compared)."""
        return self.model_dump(mode="json", exclude_unset=True, exclude={"account": {"password"}})


# ---------------------------------------------------------------- the actions


def _settled_job(jobs: JobRepository, executions: ExecutionRunner, org_id: str, job_id: str) -> Job:
    """The org's job, settled if its run has ended; ConflictError while a run holds it."""
    job = reconcile_stale(jobs, executions, jobs.get_job_for_org(org_id, job_id))
    if job.active_execution is not None:
        raise ConflictError("a Step 6 run is already active", active_execution=job.active_execution)
    if job.execution_config is None or job.step(5).status != StepStatus.COMPLETED:
        raise StepNotCompletedError(f"job {job_id} has no completed Step 5 configuration yet")
    return job


def cancel_run(
    jobs: JobRepository, executions: ExecutionRunner, org_id: str, job_id: str, *, actor: str
) -> str:
    """Stop the job's active run; it settles as `action_required`, `aborted`, resumable."""
    job = reconcile_stale(jobs, executions, jobs.get_job_for_org(org_id, job_id))
    if job.active_execution is None:
        raise NotRunningError(f"job {job_id} has no active run to cancel")
    arn = job.active_execution
    executions.stop(arn, cause=f"cancelled by {actor}")
    record_event(jobs, job_id, "cancel_requested", {"execution": arn}, actor=actor)
    return arn


def amend_config(
    jobs: JobRepository,
    secrets: SecretStore,
    executions: ExecutionRunner,
    org_id: str,
    job_id: str,
    amendment: ConfigAmendment,
    *,
    actor: str,
) -> JobDetails:
    """Change config fields that no completed sub-step has read; Step 5 stays completed."""
    job = _settled_job(jobs, executions, org_id, job_id)
    current = job.execution_config
    assert current is not None  # _settled_job checked it
    given = amendment.given()
    password = amendment.account.password if amendment.account else None
    changed = fixes.config_changes(current, given, new_password=password is not None)
    used = fixes.in_use(changed, job.step6_progress)
    if used:
        described = "; ".join(f"{path} (read by {', '.join(n)})" for path, n in used.items())
        raise ConfigInUseError(
            f"these fields were used by completed sub-steps and cannot change: {described}",
            used=used,
        )
    if not changed:
        return details(job)
    amended = _merged(current, given)
    if amended.menu.selectedMenuId is not None:
        check_selected_menu(job, amended.menu.selectedMenuId)
    if password is not None:
        # A new version of the job's secret; the reference pins it.
        ref = secrets.put_password(job.job_id, password.get_secret_value())
        amended.account = amended.account.model_copy(
            update={"password_secret_ref": ref, "password_deleted_at": None}
        )
    _check_password_given(amended, job)
    # Enabling or disabling a sub-step can change what is left to do, and so Step 6's status.
    status, steps, last_failure = fixes.standing(
        job.model_copy(update={"execution_config": amended}), job.step6_progress, utc_now()
    )
    jobs.amend_config(job, amended, steps=steps, status=status, last_failure=last_failure)
    record_event(jobs, job_id, "config_amended", {"fields": changed}, actor=actor)
    return details(jobs.get_job(job_id))


def _merged(current: ExecutionConfig, given: dict[str, Any]) -> ExecutionConfig:
    account = current.account.model_dump() | given.get("account", {})
    return ExecutionConfig(
        account=AccountConfig.model_validate(account),
        menu=MenuConfig.model_validate(current.menu.model_dump() | given.get("menu", {})),
        onboarding=OnboardingConfig.model_validate(
            current.onboarding.model_dump() | given.get("onboarding", {})
        ),
        steps_enabled=current.steps_enabled | given.get("steps_enabled", {}),
    )


def _check_password_given(config: ExecutionConfig, job: Job) -> None:
    # The rule the password's deletion follows (domain.passwords): while a sub-step may still
    # read it, a new account needs one. One deleted once nothing could read it is gone.
    needs = config.account.registerNewUser and not all(
        is_settled(spec, config, job.step6_progress) for spec in PASSWORD_READERS
    )
    if needs and config.account.password_secret_ref is None:
        raise InvalidRequestError(
            "account.password is required when registerNewUser is true", field="account.password"
        )


def rerun(
    jobs: JobRepository,
    executions: ExecutionRunner,
    org_id: str,
    job_id: str,
    names: list[str],
    *,
    actor: str,
) -> tuple[StartedRun, list[str]]:
    """Run the named completed sub-steps again, and everything that depends on them."""
    unknown = [n for n in names if n not in SUB_STEPS]
    if unknown or not names:
        raise InvalidRequestError(
            f"name completed sub-steps to re-run; unknown: {unknown}", field="sub_steps"
        )
    job = _settled_job(jobs, executions, org_id, job_id)
    if not waits_for_resume(job):
        raise NotResumableError(f"job {job_id}: Step 6 has not run yet")
    progress = job.step6_progress
    # An operator's skip is final: a dependent skipped for good stays so.
    closure = [
        n
        for n in fixes.rerun_closure(names)
        if n in names or (_sub(job, n).skip_reason != SkipReason.OPERATOR)
    ]
    refused = [
        n
        for n in closure
        if not SUB_STEPS[n].rerunnable and _status(job, n) == SubStepStatus.COMPLETED
    ]
    if refused:
        raise NotRerunnableError(
            f"{', '.join(refused)} cannot be re-run: each creates an object on the platform "
            "that must exist once"
        )
    not_done = [n for n in names if _status(job, n) != SubStepStatus.COMPLETED]
    if not_done:
        raise NotCompletedError(
            f"{', '.join(not_done)} has not completed: resume the job to run it"
        )
    started = start_run(
        jobs,
        executions,
        job,
        reason="rerun_requested",
        trigger="rerun",
        actor=actor,
        progress=fixes.reset_for_rerun(progress, closure),
        detail={"reset": closure},
    )
    return started, closure


def _sub(job: Job, name: str) -> SubStepProgress:
    phase = job.step6_progress.phases.get(SUB_STEPS[name].phase)
    sub = phase.sub_steps.get(name) if phase else None
    return sub or SubStepProgress()


def _status(job: Job, name: str) -> SubStepStatus:
    return _sub(job, name).status


def skip_sub_step(
    jobs: JobRepository,
    executions: ExecutionRunner,
    org_id: str,
    job_id: str,
    name: str,
    reason: str,
    *,
    actor: str,
) -> JobDetails:
    """Accept a failed (or dependency-skipped) non-blocking sub-step as skipped, for good."""
    if name not in SUB_STEPS:
        raise InvalidRequestError(f"unknown sub-step {name!r}", field="subStep")
    if SUB_STEPS[name].blocking:
        raise BlockingSubStepError(
            f"{name} is blocking: the job cannot go on without it; fix it and resume instead"
        )
    job = _settled_job(jobs, executions, org_id, job_id)
    phase = job.step6_progress.phases.get(SUB_STEPS[name].phase)
    current = phase.sub_steps.get(name) if phase else None
    if current is None or not fixes.skippable(current):
        raise NotFailedError(
            f"{name} is {(current or SubStepProgress()).status.value}: only a failed or "
            "dependency-skipped sub-step can be skipped"
        )
    at = utc_now()
    progress = fixes.operator_skip(job.step6_progress, name, reason=reason, actor=actor, at=at)
    status, steps, last_failure = fixes.standing(job, progress, at)
    jobs.record_operator_change(
        job, progress=progress, steps=steps, status=status, last_failure=last_failure
    )
    record_event(
        jobs, job_id, "sub_step_skipped", {"sub_step": name, "reason": reason}, actor=actor
    )
    return details(jobs.get_job(job_id))
