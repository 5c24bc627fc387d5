"""Steps 1-4 of a job created from a website: the seed's transitions, as pure functions.

Step 1 (menu and branding from the site) pending → in_progress → completed | failed; Step 2
(contact details) → completed | action_required (none or several found) | failed; Step 3 (the
company) action_required → completed (always the operator's choice); Step 4 (the company's
details) → completed | failed; then the job waits at Step 5 exactly like a job created with
the full form. A job is in the state of its current step. (docs/architecture.md §14)
"""

from __future__ import annotations

import json
import uuid

from domain.catalogue import sub_steps_of
from state.models import (
    PHASE_NAMES,
    STEP_NAMES,
    Company,
    ContactCandidates,
    ContactSource,
    ErrorCode,
    Job,
    LastFailure,
    PhaseProgress,
    Pipeline,
    Prospect,
    Restaurant,
    Step6Progress,
    StepSource,
    StepState,
    StepStatus,
    SubStepProgress,
    utc_now,
)

# The steps an operator may retry from a failure (Step 3 is the operator's own choice).
RETRYABLE_STEPS = (1, 2, 4)
# Why a JobPipeline task failed, by the error's name (the Lambda's exception class, or Step
# Functions' own), as the job records it; anything else is a fault of this system.
FAILURE_CODES: dict[str, ErrorCode] = {
    "SiteUnreachableError": ErrorCode.SITE_UNREACHABLE,
    "SiteRefusedError": ErrorCode.SITE_UNREACHABLE,  # the same condition, not worth a retry
    "ExecutionStartError": ErrorCode.INTERRUPTED,  # Step Functions refused to start it
    "ExecutionAborted": ErrorCode.ABORTED,  # stopped (the console) before it recorded its step
    "ExecutionEnded": ErrorCode.INTERRUPTED,
    "NoMenuFoundError": ErrorCode.NO_MENU_FOUND,
    "TransientRegisterError": ErrorCode.REGISTER_UNAVAILABLE,
    "PermanentRegisterError": ErrorCode.REGISTER_REJECTED,
    "UnknownCompanyError": ErrorCode.REGISTER_REJECTED,
    "ItemTooLargeError": ErrorCode.OUTPUT_TOO_LARGE,
    "States.Timeout": ErrorCode.TIMED_OUT,
    "Sandbox.Timedout": ErrorCode.TIMED_OUT,
    "Runtime.ExitError": ErrorCode.INTERRUPTED,
    "Lambda.Unknown": ErrorCode.INTERRUPTED,
}


def new_prospect_job(batch_id: str, org_id: str, prospect: Prospect) -> Job:
    """A job created from a website: Step 1 starts at once (its run is claimed with the job)."""
    now = utc_now()
    job_id = uuid.uuid4().hex
    steps = [StepState(step=n, name=STEP_NAMES[n], status=StepStatus.PENDING) for n in range(1, 7)]
    progress = Step6Progress(
        phases={
            phase: PhaseProgress(sub_steps={s.name: SubStepProgress() for s in sub_steps_of(phase)})
            for phase in PHASE_NAMES
        }
    )
    return Job(
        job_id=job_id,
        batch_id=batch_id,
        org_id=org_id,
        restaurant=prospect,
        status=StepStatus.PENDING,
        current_step=1,
        steps=steps,
        pipeline=Pipeline(),
        step6_progress=progress,
        created_at=now,
        updated_at=now,
    )


def with_step(
    steps: list[StepState], number: int, status: StepStatus, source: StepSource | None = None
) -> list[StepState]:
    """`steps` with step `number` at `status` (stamped when it completes)."""
    now = utc_now()
    return [
        s.model_copy(
            update={
                "status": status,
                "source": source if status == StepStatus.COMPLETED else s.source,
                "completed_at": now if status == StepStatus.COMPLETED else None,
            }
        )
        if s.step == number
        else s
        for s in steps
    ]


def execution_name(job_id: str, run: int) -> str:
    """JobPipeline executions are named per job and run: a repeated start is the same one."""
    return f"{job_id}-steps-{run}"


def pipeline_of(job: Job) -> Pipeline:
    if job.pipeline is None:
        raise ValueError(f"job {job.job_id} was created with Steps 1-4 provided")
    return job.pipeline


def prospect_of(job: Job) -> Prospect:
    if not isinstance(job.restaurant, Prospect):
        raise ValueError(f"job {job.job_id} already has its whole restaurant")
    return job.restaurant


def contacts_found(
    prospect: Prospect, site_emails: list[str], site_phones: list[str]
) -> ContactCandidates:
    """What Step 2 knows before the directory: what the operator gave wins over the site."""
    emails = [prospect.email] if prospect.email else _distinct(site_emails)
    phones = [prospect.phone] if prospect.phone else _distinct(site_phones)
    sources: list[ContactSource] = []
    if prospect.email or prospect.phone:
        sources.append("given")
    if (not prospect.email and site_emails) or (not prospect.phone and site_phones):
        sources.append("site")
    return ContactCandidates(emails=emails, phones=phones, sources=sources)


def with_directory(
    found: ContactCandidates, emails: list[str], phones: list[str]
) -> ContactCandidates:
    """The directory fills only what the site and the operator left empty."""
    new_emails = found.emails or _distinct(emails)
    new_phones = found.phones or _distinct(phones)
    used = (not found.emails and emails) or (not found.phones and phones)
    sources = [*found.sources, "directory"] if used else found.sources
    return ContactCandidates(emails=new_emails, phones=new_phones, sources=sources)


def needs_directory(found: ContactCandidates) -> bool:
    return not found.emails or not found.phones


def decided(found: ContactCandidates) -> tuple[str, str] | None:
    """The email and phone when exactly one of each was found; None: the operator chooses."""
    if len(found.emails) == 1 and len(found.phones) == 1:
        return found.emails[0], found.phones[0]
    return None


def _distinct(values: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for value in values:
        seen.setdefault(value.casefold(), value)
    return list(seen.values())


def completed_restaurant(prospect: Prospect, company: Company) -> Restaurant:
    """The whole restaurant once Step 4 has the company: what Steps 5 and 6 read."""
    if prospect.email is None or prospect.menu is None or prospect.branding is None:
        raise ValueError("Steps 1 and 2 are not complete")
    return Restaurant(
        name=prospect.name,
        email=prospect.email,
        phone=prospect.phone,
        branding=prospect.branding,
        menu=prospect.menu,
        company=company,
        website_url=prospect.website_url,
    )


def failure_code(error_name: str) -> ErrorCode:
    if error_name in FAILURE_CODES:
        return FAILURE_CODES[error_name]
    if error_name.startswith("Lambda."):
        return ErrorCode.INTERRUPTED
    return ErrorCode.INTERNAL_ERROR


def readable_cause(cause: str | None, error_name: str) -> str:
    """The sentence for people from a Lambda error's cause (its `errorMessage`)."""
    if cause:
        try:
            parsed = json.loads(cause)
        except ValueError:
            return cause
        if isinstance(parsed, dict) and isinstance(parsed.get("errorMessage"), str):
            return str(parsed["errorMessage"])
        return cause
    return f"the step failed ({error_name})"


def step_failure(
    step: int, error_name: str, cause: str | None, execution: str | None
) -> LastFailure:
    return LastFailure(
        step=step,
        error=readable_cause(cause, error_name),
        error_code=failure_code(error_name),
        at=utc_now(),
        execution=execution,
        execution_error=error_name[:200],
    )
