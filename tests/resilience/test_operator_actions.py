"""The crash matrix, extended with the operator actions: re-run, cancel, amend.

Each case runs the real state machine and phase Lambdas on the local runtime, with the
platform simulator's faults, and checks the simulator's ledger: every platform effect happens
at most once per idempotency key.

- A re-run gives each reset sub-step that had completed a new key generation
  (`<job_id>:<sub_step>:<n>`): it takes effect exactly once more, even when the re-run's own
  Lambda crashes before or after its call and the run is recovered (resume or redrive).
- A cancel while a platform call is slow aborts the run at once; the Lambda that was running
  finishes its call anyway (AWS does not stop it), but its late checkpoint is refused, and the
  resume that follows does not repeat the effect.
- A platform refusal fixed by amending the config, then resumed: one account, the new email.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from domain.catalogue import CATALOGUE, SUB_STEPS, phase_of
from domain.fixes import rerun_closure
from domain.operator_actions import ConfigAmendment, amend_config, cancel_run, rerun
from domain.outcome import is_resumable
from handlers.wiring import api_deps
from state.models import ErrorCode, Job, StepStatus, SubStepStatus
from tests.integration.conftest import ORG, Harness
from tests.resilience.support import (
    SMALL_MENU_CONFIG,
    assert_as_if_uninterrupted,
    create_small_job,
    event_index,
    ledger_report,
    statuses,
    sub_steps,
    wait_until,
)

pytestmark = pytest.mark.integration

ACTOR = "ops@pumpd.example"
CRASHES = ("crash_before", "crash_after")
RERUNNABLE = [s.name for s in CATALOGUE if s.rerunnable]


@dataclass(frozen=True)
class RerunCell:
    sub_step: str
    crash: str
    way: str  # how the crashed re-run is recovered: "resume" or "redrive"

    def __str__(self) -> str:
        return f"{self.sub_step}-{self.crash}-{self.way}"

    @property
    def restaurant(self) -> str:
        return f"Rerun {self.sub_step} {self.crash.replace('_', ' ')} {self.way}"


# Every crash mode meets both ways back: the way alternates with the sub-step.
RERUN_CELLS = [
    RerunCell(name, crash, ("resume", "redrive")[(i + j) % 2])
    for i, name in enumerate(RERUNNABLE)
    for j, crash in enumerate(CRASHES)
]


def _completed_job(harness: Harness, name: str) -> Job:
    """A one-job batch, submitted and run to its end."""
    job = create_small_job(harness.jobs, ORG, name)
    assert harness.runtime.wait_for(harness.submit(job, menu=SMALL_MENU_CONFIG), 120) == "SUCCEEDED"
    done: Job = harness.jobs.get_job(job.job_id)
    return done


def _keys(harness: Harness, job_id: str) -> dict[str, dict[str, int]]:
    """sub-step → idempotency key → times its effect took effect."""
    keys: dict[str, dict[str, int]] = {}
    for entry in harness.simulator.effects_for(job_id):
        keys.setdefault(entry.sub_step, {})[entry.idempotency_key] = entry.count
    return keys


# ---------------------------------------------------------------- re-run x crash x way back


def test_the_cells_cover_every_rerunnable_sub_step_with_both_crashes_and_both_ways() -> None:
    assert RERUNNABLE and all(SUB_STEPS[n].rerunnable for n in RERUNNABLE)
    assert {(c.crash, c.way) for c in RERUN_CELLS} == {
        (crash, way) for crash in CRASHES for way in ("resume", "redrive")
    }
    assert len(RERUN_CELLS) == 2 * len(RERUNNABLE)


@pytest.mark.parametrize("cell", RERUN_CELLS, ids=str)
def test_a_crashed_rerun_recovers_with_each_effect_taken_exactly_once_more(
    harness: Harness, cell: RerunCell
) -> None:
    deps = api_deps()
    name = cell.sub_step
    # given a completed job, every effect taken once under its generation-0 key
    job = _completed_job(harness, cell.restaurant)
    assert job.status == StepStatus.COMPLETED and job.step(6).status == StepStatus.COMPLETED
    assert_as_if_uninterrupted(harness.simulator, job)
    # and the phase Lambda will die around the sub-step's next platform call
    harness.fault(name, cell.crash, job_id=job.job_id)

    # when the operator re-runs the sub-step
    started, closure = rerun(deps.jobs, deps.executions, ORG, job.job_id, [name], actor=ACTOR)
    assert closure == rerun_closure([name])
    assert started.resume_from == phase_of(closure[0])

    # then the re-run fails on the crash, and leaves the job resumable
    assert harness.runtime.wait_for(started.execution_arn, 120) == "FAILED"
    crashed = harness.jobs.get_job(job.job_id)
    assert crashed.status == StepStatus.ACTION_REQUIRED and crashed.active_execution is None
    assert is_resumable(crashed)
    assert sub_steps(crashed)[name].status == SubStepStatus.FAILED
    assert sub_steps(crashed)[name].generation == 1

    # when the run is recovered
    if cell.way == "redrive":
        assert harness.runtime.redrive(started.execution_arn) == "SUCCEEDED"
        final = harness.jobs.get_job(job.job_id)
    else:
        final, arn = harness.resume(job.job_id)
        assert harness.runtime.wait_for(arn) == "SUCCEEDED"

    # then the job is completed, Step 6 completed, every sub-step completed
    assert final.status == StepStatus.COMPLETED and final.active_execution is None
    assert final.step(6).status == StepStatus.COMPLETED and final.last_failure is None
    assert set(statuses(final).values()) == {SubStepStatus.COMPLETED}
    assert {n: s.generation for n, s in sub_steps(final).items()} == {
        s.name: (1 if s.name in closure else 0) for s in CATALOGUE
    }

    # and the closure took effect exactly once more, under its generation-1 keys; nothing
    # else was repeated
    base = job.job_id
    assert _keys(harness, base) == {
        s.name: (
            {f"{base}:{s.name}": 1, f"{base}:{s.name}:1": 1}
            if s.name in closure
            else {f"{base}:{s.name}": 1}
        )
        for s in CATALOGUE
    }
    # (the faulted call was asked for twice under its new key: the crash, then the recovery,
    # which got the first answer back after crash_after)
    calls = {e.idempotency_key: e.calls for e in harness.simulator.effects_for(base)}
    assert calls[f"{base}:{name}:1"] == 2
    report = ledger_report(harness.simulator, base)
    assert report.objects_per_sub_step == {
        s.name: (2 if s.name in closure else 1) for s in CATALOGUE
    }

    # and the audit trail tells the story: the re-run, its failure, the way back, success
    events = harness.jobs.list_events(base)
    way_back = "run_redriven" if cell.way == "redrive" else "resume_requested"
    asked = event_index(events, lambda e: e.type == "rerun_requested")
    back = event_index(events, lambda e: e.type == way_back)
    assert 0 <= asked < back and events[asked].detail["reset"] == closure
    assert "run_failed" in [e.type for e in events[asked:back]]
    assert events[-1].type == "run_succeeded"


# ---------------------------------------------------------------- cancel during a slow call

SLOW = "restaurantRegistration"  # phase 2, blocking: everything after it waits for it


def test_a_cancel_during_a_slow_call_then_a_resume_takes_every_effect_once(
    harness: Harness,
) -> None:
    deps = api_deps()
    # given a job whose phase-2 registration call will take a few seconds
    job = create_small_job(harness.jobs, ORG, "Cancel Slow Cafe")
    harness.fault(SLOW, "latency", latency_ms=3000, job_id=job.job_id)

    # when it is submitted, and cancelled while the slow call is in flight
    arn = harness.submit(job, menu=SMALL_MENU_CONFIG)
    wait_until(
        lambda: (
            sub_steps(harness.jobs.get_job(job.job_id))[SLOW].status == SubStepStatus.IN_PROGRESS
        ),
        timeout_s=60,
    )
    assert cancel_run(deps.jobs, deps.executions, ORG, job.job_id, actor=ACTOR) == arn

    # then the run is aborted at once, and the job waits for the operator: aborted, resumable
    assert harness.runtime.wait_for(arn) == "ABORTED"
    cancelled = harness.jobs.get_job(job.job_id)
    assert cancelled.status == StepStatus.ACTION_REQUIRED and cancelled.active_execution is None
    assert cancelled.last_failure is not None
    assert cancelled.last_failure.error_code == ErrorCode.ABORTED
    assert is_resumable(cancelled)
    types = [e.type for e in harness.jobs.list_events(job.job_id)]
    assert "cancel_requested" in types

    # when the Lambda that was running finishes its call after the stop
    late = wait_until(
        lambda: next(
            (
                i
                for i in harness.runtime.lambdas.invocations
                if i.function == f"Phase{phase_of(SLOW)[-1]}Function"
                and i.payload.get("job_id") == job.job_id
            ),
            None,
        ),
        timeout_s=30,
    )

    # then its checkpoint was refused: the cancelled job is as the stop left it
    assert late.error_type == "SupersededExecutionError"
    after_late = harness.jobs.get_job(job.job_id)
    assert after_late.step6_progress == cancelled.step6_progress
    assert after_late.status == StepStatus.ACTION_REQUIRED and after_late.active_execution is None
    # and the effect of its call reached the platform, once
    assert _keys(harness, job.job_id)[SLOW] == {f"{job.job_id}:{SLOW}": 1}

    # when the job is resumed
    final, resumed = harness.resume(job.job_id)

    # then it completes, every effect exactly once: one entry per sub-step, taken once
    assert harness.runtime.wait_for(resumed) == "SUCCEEDED"
    assert final.step(6).status == StepStatus.COMPLETED and final.last_failure is None
    assert_as_if_uninterrupted(harness.simulator, final)
    assert _keys(harness, job.job_id) == {s.name: {f"{job.job_id}:{s.name}": 1} for s in CATALOGUE}


# ---------------------------------------------------------------- amend after a refusal

ONBOARDING_OFF = {"createOnboardingUser": False, "syncOnboardingRecord": False}


def test_an_email_refused_by_the_platform_is_amended_then_resumed_to_one_account(
    harness: Harness,
) -> None:
    deps = api_deps()
    # given a job, onboarding off (nothing but the account reads the email), whose account
    # creation the platform refuses: the email is taken
    job = create_small_job(harness.jobs, ORG, "Amend Email Cafe")
    harness.fault("cloudwaitressAccount", "fail", platform_code="email_taken", job_id=job.job_id)
    arn = harness.submit(job, menu=SMALL_MENU_CONFIG, onboarding=ONBOARDING_OFF)
    assert harness.runtime.wait_for(arn) == "FAILED"
    refused = harness.jobs.get_job(job.job_id)
    assert refused.status == StepStatus.ACTION_REQUIRED
    assert refused.last_failure is not None
    assert refused.last_failure.sub_step == "cloudwaitressAccount"
    assert refused.last_failure.error_code == ErrorCode.PLATFORM_REJECTED
    assert refused.last_failure.platform_code == "email_taken"
    assert not [o for o in harness.simulator.objects("account") if o.job_id == job.job_id]

    # when the operator amends the email, then resumes
    new_email = "owner+2@amend-email-cafe.example"
    amended = amend_config(
        deps.jobs,
        deps.secrets,
        deps.executions,
        ORG,
        job.job_id,
        ConfigAmendment.model_validate({"account": {"email": new_email}}),
        actor=ACTOR,
    )
    assert amended.job.execution_config is not None
    assert amended.job.execution_config.account.email == new_email
    assert amended.job.step(5).status == StepStatus.COMPLETED
    final, resumed = harness.resume(job.job_id)

    # then the job completes with exactly one account, made with the new email
    assert harness.runtime.wait_for(resumed) == "SUCCEEDED"
    assert final.status == StepStatus.COMPLETED and final.last_failure is None
    assert final.step(6).status == StepStatus.COMPLETED
    accounts = [o for o in harness.simulator.objects("account") if o.job_id == job.job_id]
    assert len(accounts) == 1 and accounts[0].attributes["email"] == new_email
    # and every enabled sub-step's effect happened once; the onboarding ones never
    enabled = {s.name for s in CATALOGUE} - {"createOnboardingUser", "syncOnboardingUser"}
    assert _keys(harness, job.job_id) == {n: {f"{job.job_id}:{n}": 1} for n in enabled}
    assert {n for n, s in statuses(final).items() if s == SubStepStatus.SKIPPED} == {
        "createOnboardingUser",
        "syncOnboardingUser",
    }
