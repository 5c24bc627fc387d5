"""The JobPipeline's tasks: Steps 1-4 of a job created from a website (docs/architecture.md §14).

Each task reads the job, does its step's work and records the step's outcome in one
conditional write (only the execution that holds the job may write); a step already completed
is never done again (a retried invocation passes through). Errors are raised for the state
machine: its Retry retries the transient ones with backoff, its Catch hands every other, and
the last transient one, to `record_failure`, which records the step failed. So a step's
outcome is written by its own task when it succeeds and by `record_failure` when it does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from botocore.exceptions import ClientError

from clients.registers import CompanyRegister, ContactDirectory
from clients.website import FetchedPage
from domain.audit import record_event
from domain.observability import logger
from domain.pipeline import (
    completed_restaurant,
    contacts_found,
    decided,
    needs_directory,
    pipeline_of,
    prospect_of,
    with_directory,
    with_step,
)
from domain.site_facts import read_site
from state.errors import SupersededExecutionError
from state.models import (
    Company,
    CompanyCandidate,
    Job,
    Menu,
    SiteReading,
    StepSource,
    StepStatus,
)
from state.repository import JobRepository

Next = Literal["step2", "step3", "done"]


class SiteFetcher(Protocol):
    def fetch(self, url: str) -> FetchedPage: ...


class UnknownCompanyError(Exception):
    """The register does not know the company chosen at Step 3 (any more)."""


@dataclass(frozen=True)
class PipelineDeps:
    jobs: JobRepository
    fetcher: SiteFetcher
    directory: ContactDirectory
    register: CompanyRegister
    phone_region: str = "NZ"


def _held(deps: PipelineDeps, job_id: str, execution_arn: str) -> Job:
    job = deps.jobs.get_job(job_id)
    if pipeline_of(job).execution != execution_arn:
        raise SupersededExecutionError(
            f"execution {execution_arn} no longer holds job {job_id}",
            active_execution=pipeline_of(job).execution,
        )
    return job


def _note(deps: PipelineDeps, job_id: str, kind: str, detail: dict[str, object]) -> None:
    """The step's audit event, once its outcome is written: best effort, because the Catch
    would otherwise record the next step (already started by that write) as failed."""
    try:
        record_event(deps.jobs, job_id, kind, detail)
    except ClientError:
        logger.warning("the step's audit event was not written", job_id=job_id, kind=kind)


def run_step1(deps: PipelineDeps, job_id: str, execution_arn: str) -> Next:
    """Menu and branding from the restaurant's website; then Step 2 starts."""
    job = _held(deps, job_id, execution_arn)
    if job.step(1).status == StepStatus.COMPLETED:
        return "step2"
    prospect = prospect_of(job)
    page = deps.fetcher.fetch(prospect.website_url)  # SiteUnreachableError
    facts = read_site(page.text, page.url, phone_region=deps.phone_region)  # NoMenuFoundError
    menu = Menu(menu_id=f"menu-{job.job_id}", categories=facts.categories)
    reading = SiteReading(
        url=page.url,
        categories=len(facts.categories),
        items=sum(len(c.items) for c in facts.categories),
        skipped_items=facts.skipped_items,
        emails=facts.emails,
        phones=facts.phones,
    )
    steps = with_step(job.steps, 1, StepStatus.COMPLETED, StepSource.AUTOMATION)
    deps.jobs.advance_pipeline(
        job,
        execution_arn,
        steps=with_step(steps, 2, StepStatus.IN_PROGRESS),
        status=StepStatus.IN_PROGRESS,
        current_step=2,
        pipeline=pipeline_of(job).model_copy(update={"site": reading}),
        restaurant=prospect.model_copy(update={"menu": menu, "branding": facts.branding}),
    )
    _note(
        deps,
        job.job_id,
        "step_completed",
        {"step": 1, "items": reading.items, "skipped_items": reading.skipped_items},
    )
    return "step2"


def run_step2(deps: PipelineDeps, job_id: str, execution_arn: str) -> Next:
    """The contact details: the operator's, else the site's, else the directory's. Exactly one
    email and one phone complete it (then Step 3's search); else the operator chooses."""
    job = _held(deps, job_id, execution_arn)
    if job.step(2).status == StepStatus.COMPLETED:
        return "step3"
    prospect = prospect_of(job)
    pipeline = pipeline_of(job)
    site = pipeline.site
    found = contacts_found(prospect, site.emails if site else [], site.phones if site else [])
    if needs_directory(found):
        listed = deps.directory.lookup(prospect.name, prospect.website_url, job_id=job.job_id)
        found = with_directory(found, listed.emails, listed.phones)
    choice = decided(found)
    with_contacts = pipeline.model_copy(update={"contacts": found})
    if choice is None:
        deps.jobs.advance_pipeline(
            job,
            execution_arn,
            steps=with_step(job.steps, 2, StepStatus.ACTION_REQUIRED),
            status=StepStatus.ACTION_REQUIRED,
            current_step=2,
            pipeline=with_contacts.model_copy(update={"execution": None}),
        )
        _note(
            deps,
            job.job_id,
            "step_action_required",
            {"step": 2, "emails": len(found.emails), "phones": len(found.phones)},
        )
        return "done"
    email, phone = choice
    steps = with_step(job.steps, 2, StepStatus.COMPLETED, StepSource.AUTOMATION)
    deps.jobs.advance_pipeline(
        job,
        execution_arn,
        steps=with_step(steps, 3, StepStatus.IN_PROGRESS),
        status=StepStatus.IN_PROGRESS,
        current_step=3,
        pipeline=with_contacts,
        restaurant=prospect.model_copy(update={"email": email, "phone": phone}),
    )
    _note(deps, job.job_id, "step_completed", {"step": 2, "sources": found.sources})
    return "step3"


def run_step3(deps: PipelineDeps, job_id: str, execution_arn: str) -> Next:
    """Step 3's candidates from the company register; the choice is the operator's."""
    job = _held(deps, job_id, execution_arn)
    found = deps.register.search(job.restaurant.name, job_id=job.job_id)
    candidates = [
        CompanyCandidate(company_number=c.company_number, name=c.name, address=c.address)
        for c in found
    ]
    deps.jobs.advance_pipeline(
        job,
        execution_arn,
        steps=with_step(job.steps, 3, StepStatus.ACTION_REQUIRED),
        status=StepStatus.ACTION_REQUIRED,
        current_step=3,
        pipeline=pipeline_of(job).model_copy(
            update={"companies": candidates, "companies_error": None, "execution": None}
        ),
    )
    _note(deps, job.job_id, "step_action_required", {"step": 3, "candidates": len(candidates)})
    return "done"


def run_step4(deps: PipelineDeps, job_id: str, execution_arn: str) -> Next:
    """The chosen company's details from the register; then the job waits at Step 5."""
    job = _held(deps, job_id, execution_arn)
    if job.step(4).status == StepStatus.COMPLETED:
        return "done"
    pipeline = pipeline_of(job)
    number = pipeline.company_number
    if number is None:
        raise UnknownCompanyError("no company was chosen at Step 3")
    details = deps.register.details(number, job_id=job.job_id)
    if details is None:
        raise UnknownCompanyError(f"the company register does not know company {number}")
    company = Company(
        name=details.name,
        number=details.number,
        address=details.address or None,
        directors=list(details.directors),
    )
    steps = with_step(job.steps, 4, StepStatus.COMPLETED, StepSource.AUTOMATION)
    deps.jobs.advance_pipeline(
        job,
        execution_arn,
        steps=with_step(steps, 5, StepStatus.ACTION_REQUIRED),
        status=StepStatus.ACTION_REQUIRED,
        current_step=5,
        pipeline=pipeline.model_copy(update={"execution": None}),
        restaurant=completed_restaurant(prospect_of(job), company),
    )
    _note(deps, job.job_id, "step_completed", {"step": 4, "company": number})
    return "done"
