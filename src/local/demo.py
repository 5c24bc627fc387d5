"""`make demo`: first one restaurant given by its website alone, through Steps 1-4 (the site
read, its contacts found, the operator's company choice, the company's details) to Step 6;
then a batch of five restaurants through Step 5 and Step 6: a failure resumed, a platform
refusal fixed by amending the config, a run completed with errors, then resumed.

Runs on the local runtime (moto + the real ASL + the real handlers; no AWS account, no
Docker) and exits non-zero if anything it shows is not what resume promises.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable

from clients.simulator import FaultSpec
from domain.observability import logger
from domain.onboarding import ExecutionConfigInput, NewBatch, create_batch, submit_step5
from domain.operator_actions import ConfigAmendment, amend_config
from domain.outcome import is_resumable
from domain.pipeline_actions import answer_step3
from domain.resume import phase_statuses, resume_point
from domain.runs import resume_job
from domain.search import read_batch
from handlers.wiring import api_deps, pipeline_api_deps
from local.runtime import LocalRuntime, platform_from_env, table_engine_from_env
from local.samples import RESTAURANT_NAMES, config_data, restaurant_data
from state.models import PHASE_NAMES, Job, StepStatus

ORG = "org-demo"
OPERATOR = "ops@pumpd.example"
FAILING = "Harbour Dumplings"
FAILING_SUB_STEP = "restaurantRegistration"
# The platform refuses this one's account email; the operator amends it, then resumes.
REFUSED = "Te Aro Tacos"
# This one's payment configuration (non-blocking) fails once: Step 6 completes with errors.
WITH_ERRORS = "Moana Pies"
# The restaurant known only by its website (a sample site the runtime serves on 127.0.0.1).
WEBSITE_NAME = "Luigi's Trattoria"
WEBSITE_SLUG = "luigis-trattoria"


def table(headers: list[str], rows: Iterable[list[str]]) -> str:
    rows = [headers, *rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def jobs_table(jobs: list[Job]) -> str:
    rows = []
    for job in jobs:
        phases = list(phase_statuses(job.execution_config, job.step6_progress).values())
        failure = job.last_failure
        rows.append(
            [
                job.restaurant.name,
                job.status.value,
                str(job.current_step),
                job.step(5).status.value,
                job.step(6).status.value,
                *phases,
                f"{failure.phase}/{failure.sub_step} ({failure.error_code.value})"
                if failure
                else "-",
                resume_point(job.execution_config, job.step6_progress) or "-"
                if is_resumable(job)
                else "-",
            ]
        )
    headers = ["restaurant", "job", "step", "step 5", "step 6"]
    headers += [*PHASE_NAMES, "last failure", "resume from"]
    return table(headers, rows)


def progress_table(job: Job) -> str:
    rows = []
    for phase in PHASE_NAMES:
        for name, sub in job.step6_progress.phases[phase].sub_steps.items():
            detail = sub.error or (sub.skip_reason.value if sub.skip_reason else "")
            if sub.blocked_by:
                detail += f" (blocked by {', '.join(sub.blocked_by)})"
            rows.append([phase, name, sub.status.value, str(sub.attempts), detail[:60]])
    return table(["phase", "sub-step", "status", "attempts", "error / skip reason"], rows)


def wait_until(check: Callable[[], Job | None], what: str, timeout_s: float = 120) -> Job:
    deadline = time.monotonic() + timeout_s
    while True:
        found = check()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reached in {timeout_s}s")
        time.sleep(0.2)


def website_story(runtime: LocalRuntime) -> bool:
    """One restaurant from its website alone to Step 6's completion (docs §14)."""
    deps = api_deps()
    pipelines = pipeline_api_deps()
    site = runtime.sites.url(WEBSITE_SLUG)
    request = NewBatch.model_validate(
        {"name": "From a website", "restaurants": [{"name": WEBSITE_NAME, "website_url": site}]}
    )
    batch, (job,) = create_batch(deps.jobs, ORG, request, pipelines=pipelines, actor=OPERATOR)
    print(f"Batch {batch.name!r}: {WEBSITE_NAME!r} given by its website only ({site})")

    def at(step: int, status: StepStatus) -> Callable[[], Job | None]:
        def check() -> Job | None:
            now = deps.jobs.get_job(job.job_id)
            if now.current_step == step and now.step(step).status == status:
                return now
            return None

        return check

    waiting = wait_until(at(3, StepStatus.ACTION_REQUIRED), "Step 3 waiting")
    pipeline = waiting.pipeline
    restaurant = waiting.restaurant
    assert pipeline is not None and pipeline.site is not None
    menu = restaurant.menu
    branding = restaurant.branding
    print(
        f"  Step 1 {waiting.step(1).status.value}: {pipeline.site.items} menu items in "
        f"{pipeline.site.categories} categories ({pipeline.site.skipped_items} without a price "
        "left out)"
    )
    if menu is not None and branding is not None:
        first = menu.categories[0].items[0]
        print(
            f"    e.g. {first.name!r} ${first.price:.2f}; colours {branding.primary_color} / "
            f"{branding.secondary_color}, font {branding.font}, logo {branding.logo_url}"
        )
    print(
        f"  Step 2 {waiting.step(2).status.value}: {restaurant.email}, {restaurant.phone} "
        f"(from {', '.join(pipeline.contacts.sources) if pipeline.contacts else '?'})"
    )
    candidates = pipeline.companies or []
    print("  Step 3 waits for the operator's choice among the register's candidates:")
    print(
        table(
            ["number", "company", "address"],
            [[c.company_number, c.name, c.address] for c in candidates],
        )
    )
    chosen = candidates[0].company_number
    answer_step3(pipelines, ORG, job.job_id, chosen, actor=OPERATOR)
    print(f"  POST step-3 {{company_number: {chosen}}}: Step 4 fetches the company")
    ready = wait_until(at(5, StepStatus.ACTION_REQUIRED), "Step 5 waiting")
    company = ready.restaurant.company
    print(
        f"  Step 4 {ready.step(4).status.value}: {company.name if company else '?'}, directors "
        f"{', '.join(company.directors or []) if company else '?'}; the job waits at Step 5"
    )
    data = config_data(WEBSITE_SLUG)
    data["menu"]["selectedMenuId"] = (
        ready.restaurant.menu.menu_id if ready.restaurant.menu else None
    )
    config = ExecutionConfigInput.model_validate(data)
    started = submit_step5(deps.jobs, deps.secrets, deps.executions, ready, config, actor=OPERATOR)
    runtime.wait_for(started.execution_arn)
    done = deps.jobs.get_job(job.job_id)
    print(f"  Step 5 submitted, Step 6 {done.step(6).status.value}: job {done.status.value}\n")
    return done.status == StepStatus.COMPLETED and done.step(6).status == StepStatus.COMPLETED


def main() -> int:
    # The tables tell the story; DEMO_LOG_LEVEL=INFO (or WARNING) shows the structured logs too.
    logger.setLevel(os.environ.get("DEMO_LOG_LEVEL", "ERROR"))
    with LocalRuntime(
        table_engine=table_engine_from_env(), platform=platform_from_env(), prewarm=True
    ) as runtime:
        simulator = runtime.simulator
        simulator.reset()
        from_website = website_story(runtime)
        deps = api_deps()
        request = NewBatch.model_validate(
            {
                "name": "Wellington November",
                "restaurants": [restaurant_data(n) for n in RESTAURANT_NAMES],
            }
        )
        batch, jobs = create_batch(
            deps.jobs, ORG, request, pipelines=pipeline_api_deps(), actor=OPERATOR
        )
        print(
            f"Batch {batch.name!r} ({batch.batch_id}): {len(jobs)} restaurants, Steps 1-4 provided"
        )

        simulator.add_fault(FaultSpec(sub_step=FAILING_SUB_STEP, mode="fail", restaurant=FAILING))
        simulator.add_fault(
            FaultSpec(sub_step="menuImport", mode="transient", restaurant="Kai Kitchen")
        )
        simulator.add_fault(
            FaultSpec(
                sub_step="cloudwaitressAccount",
                mode="fail",
                platform_code="email_taken",
                restaurant=REFUSED,
            )
        )
        simulator.add_fault(
            FaultSpec(sub_step="paymentConfig", mode="fail", restaurant=WITH_ERRORS)
        )
        print(f"Injected: {FAILING_SUB_STEP} fails permanently for {FAILING!r} (blocking);")
        print("          menuImport fails once, transiently, for 'Kai Kitchen' (retried);")
        print(f"          the platform says {REFUSED!r}'s account email is already registered;")
        print(f"          paymentConfig (non-blocking) fails once for {WITH_ERRORS!r}\n")

        arns = []
        for job in jobs:
            data = config_data(job.restaurant.name)
            if job.restaurant.name == REFUSED:
                # No onboarding user: nothing else reads the email before the account.
                data["onboarding"] = {"createOnboardingUser": False, "syncOnboardingRecord": False}
            config = ExecutionConfigInput.model_validate(data)
            arns.append(
                submit_step5(deps.jobs, deps.secrets, deps.executions, job, config, actor=OPERATOR)
            )
        for started in arns:
            runtime.wait_for(started.execution_arn)

        jobs = [deps.jobs.get_job(j.job_id) for j in jobs]
        overview = read_batch(deps.jobs, deps.executions, ORG, batch.batch_id).overview
        print("After Step 5 submission and the first Step 6 run:")
        print(jobs_table(jobs))
        print(f"batch status: {overview.status.value}\n")

        failed = next(j for j in jobs if j.restaurant.name == FAILING)
        print(f"{FAILING}: waiting at Step {failed.current_step}, partial progress kept:")
        print(progress_table(failed))
        print()

        started = resume_job(deps.jobs, deps.executions, failed, actor=OPERATOR)
        print(f"Resume {FAILING}: execution {started.execution_arn.rsplit(':', 1)[-1]}")
        print(f"  starts at {started.resume_from}")
        runtime.wait_for(started.execution_arn)
        entered = [
            s for s in runtime.entered_states(started.execution_arn) if s.startswith("Phase")
        ]
        print(f"  phases the resumed execution entered: {', '.join(entered)}\n")

        refused = next(j for j in jobs if j.restaurant.name == REFUSED)
        refused = deps.jobs.get_job(refused.job_id)
        cause = refused.last_failure
        assert cause is not None
        print(f"{REFUSED}: {cause.error} [{cause.error_code.value}, {cause.platform_code}]")
        print("  Step 5 is locked and a plain resume would be refused again: fix the config.")
        amended = amend_config(
            deps.jobs,
            deps.secrets,
            deps.executions,
            ORG,
            refused.job_id,
            ConfigAmendment.model_validate({"account": {"email": "owner+2@te-aro-tacos.example"}}),
            actor=OPERATOR,
        )
        print(
            "  PATCH execution-config account.email → "
            f"{amended.job.execution_config.account.email if amended.job.execution_config else '?'}"
            f" (Step 5 stays {amended.job.step(5).status.value})"
        )
        fixed = resume_job(deps.jobs, deps.executions, amended.job, actor=OPERATOR)
        runtime.wait_for(fixed.execution_arn)
        now = deps.jobs.get_job(refused.job_id).status.value
        print(f"  resumed from {fixed.resume_from}: {now}\n")

        partial = deps.jobs.get_job(
            next(j for j in jobs if j.restaurant.name == WITH_ERRORS).job_id
        )
        print(
            f"{WITH_ERRORS}: job {partial.status.value}, Step 6 {partial.step(6).status.value} "
            f"(paymentConfig failed, non-blocking); resuming retries only it"
        )
        again = resume_job(deps.jobs, deps.executions, partial, actor=OPERATOR)
        runtime.wait_for(again.execution_arn)
        print(f"  Step 6 now {deps.jobs.get_job(partial.job_id).step(6).status.value}\n")
        runs = deps.jobs.list_runs(partial.job_id)
        print(f"{WITH_ERRORS}'s runs, newest first:")
        print(
            table(
                ["run", "trigger", "actor", "status", "step 6", "sub-steps run"],
                [
                    [
                        str(r.run),
                        r.trigger,
                        r.actor,
                        r.status,
                        r.step6_status.value if r.step6_status else "-",
                        str(len(r.sub_steps)),
                    ]
                    for r in runs
                ],
            )
        )
        print()

        jobs = [deps.jobs.get_job(j.job_id) for j in jobs]
        overview = read_batch(deps.jobs, deps.executions, ORG, batch.batch_id).overview
        print("After the resume and the fixes:")
        print(jobs_table(jobs))
        print(f"batch status: {overview.status.value}\n")

        ledger = simulator.ledger()
        names = {j.job_id: j.restaurant.name for j in jobs}
        rows = [
            [
                names.get(e.job_id, e.job_id),
                e.sub_step,
                e.idempotency_key[:14] + "…",
                str(e.count),
                str(e.calls),
            ]
            for e in ledger
            if names.get(e.job_id) in (FAILING, "Kai Kitchen", REFUSED)
        ]
        print("Simulator ledger (platform side effects) for three jobs that met a fault:")
        print(table(["restaurant", "sub-step", "idempotency key", "effects", "calls"], rows))
        duplicates = [e for e in ledger if e.count != 1]
        per_job: dict[tuple[str, str], int] = {}
        for e in ledger:
            per_job[(e.job_id, e.sub_step)] = per_job.get((e.job_id, e.sub_step), 0) + 1
        repeated = [k for k, n in per_job.items() if n > 1]
        print(
            f"\n{len(ledger)} distinct side effects for {len(jobs)} jobs; "
            f"{len(duplicates) + len(repeated)} happened twice."
        )
        ok = (
            from_website
            and all(j.status == StepStatus.COMPLETED for j in jobs)
            and all(j.step(6).status == StepStatus.COMPLETED for j in jobs)
            and not duplicates
            and not repeated
            and entered[0] == "Phase2"
        )
        print(
            "Demo "
            + (
                "passed: the restaurant from its website and every job completed, every side "
                "effect happened once."
                if ok
                else "FAILED: see above."
            )
        )
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
