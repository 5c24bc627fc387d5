"""Whole Step 6 executions of the real ASL on the local runtime: run, fail, resume, redrive."""

from __future__ import annotations

from typing import Any

import pytest

from domain.catalogue import CATALOGUE, SUB_STEPS, dependents_of, phase_of
from domain.outcome import is_resumable
from domain.resume import last_completed_phase, phase_statuses, resume_point
from domain.summary import job_counts
from state.models import (
    PHASE_NAMES,
    ErrorCode,
    Job,
    PhaseStatus,
    SkipReason,
    StepStatus,
    SubStepStatus,
)
from tests.integration.conftest import Harness

pytestmark = pytest.mark.integration

BLOCKING = [s.name for s in CATALOGUE if s.blocking]


def sub_step_statuses(job: Job) -> dict[str, SubStepStatus]:
    return {
        name: sub.status
        for phase in job.step6_progress.phases.values()
        for name, sub in phase.sub_steps.items()
    }


def outputs(job: Job) -> dict[str, object]:
    return {
        name: sub.output
        for phase in job.step6_progress.phases.values()
        for name, sub in phase.sub_steps.items()
    }


def test_happy_path_completes_all_twelve_sub_steps(harness: Harness) -> None:
    # given a batch of one restaurant with everything enabled
    job, arn = harness.run_job()
    # then every sub-step completed once, the job and Step 6 are completed
    assert set(sub_step_statuses(job).values()) == {SubStepStatus.COMPLETED}
    assert job.status == StepStatus.COMPLETED
    assert job.step(6).status == StepStatus.COMPLETED
    assert job.active_execution is None and job.last_failure is None
    config, progress = job.execution_config, job.step6_progress
    assert set(phase_statuses(config, progress).values()) == {PhaseStatus.COMPLETED}
    assert last_completed_phase(config, progress) == "phase4"
    assert harness.effect_counts(job.job_id) == {s.name: 1 for s in CATALOGUE}
    assert not is_resumable(job)
    # and the batch's counts (derived from its jobs' listings) moved with the job
    counts = job_counts(harness.jobs.list_listings(job.batch_id))
    assert counts[StepStatus.COMPLETED] == 1
    assert counts[StepStatus.IN_PROGRESS] == 0
    assert harness.runtime.entered_states(arn)[:3] == ["PrepareRun", "RouteByResumePoint", "Phase1"]


@pytest.mark.parametrize("disabled", [s.name for s in CATALOGUE])
def test_a_disabled_sub_step_is_skipped_and_never_calls_the_platform(
    harness: Harness, disabled: str
) -> None:
    # given a config that switches one sub-step off
    job, _ = harness.run_job(steps_enabled={disabled: False})
    subs = {n: s for p in job.step6_progress.phases.values() for n, s in p.sub_steps.items()}
    # then it is skipped as disabled, what needs it is dependency_not_met, the rest completed
    assert subs[disabled].status == SubStepStatus.SKIPPED
    assert subs[disabled].skip_reason == SkipReason.DISABLED
    blocked = set(dependents_of(disabled))
    for name in blocked:
        assert subs[name].skip_reason == SkipReason.DEPENDENCY_NOT_MET
    for name in set(SUB_STEPS) - blocked - {disabled}:
        assert subs[name].status == SubStepStatus.COMPLETED, name
    assert disabled not in harness.effect_counts(job.job_id)
    # a skip forced by config is final: the job is completed and has nothing to resume
    assert job.status == StepStatus.COMPLETED
    assert resume_point(job.execution_config, job.step6_progress) is None


@pytest.mark.parametrize(
    ("override", "disabled"),
    [
        (
            {"onboarding": {"createOnboardingUser": False, "syncOnboardingRecord": True}},
            "createOnboardingUser",
        ),
        (
            {"onboarding": {"createOnboardingUser": True, "syncOnboardingRecord": False}},
            "syncOnboardingUser",
        ),
        (
            {
                "menu": {
                    "selectedMenuId": "m-cafe-aroha-1",
                    "uploadImages": False,
                    "addOptionSets": True,
                    "addItemTags": True,
                }
            },
            "uploadImages",
        ),
        (
            {
                "menu": {
                    "selectedMenuId": "m-cafe-aroha-1",
                    "uploadImages": True,
                    "addOptionSets": False,
                    "addItemTags": True,
                }
            },
            "optionSets",
        ),
        (
            {
                "menu": {
                    "selectedMenuId": "m-cafe-aroha-1",
                    "uploadImages": True,
                    "addOptionSets": True,
                    "addItemTags": False,
                }
            },
            "itemTags",
        ),
    ],
)
def test_config_conditions_disable_their_sub_steps(
    harness: Harness, override: dict[str, object], disabled: str
) -> None:
    job, _ = harness.run_job(**override)
    sub = job.step6_progress.sub_step(phase_of(disabled), disabled)
    assert (sub.status, sub.skip_reason) == (SubStepStatus.SKIPPED, SkipReason.DISABLED)
    assert disabled not in harness.effect_counts(job.job_id)
    assert job.status == StepStatus.COMPLETED


def test_no_selected_menu_disables_every_menu_sub_step(harness: Harness) -> None:
    job, _ = harness.run_job(
        menu={
            "selectedMenuId": None,
            "uploadImages": True,
            "addOptionSets": True,
            "addItemTags": True,
        }
    )

    def skip_reason(name: str) -> SkipReason | None:
        return job.step6_progress.sub_step(phase_of(name), name).skip_reason

    assert skip_reason("uploadImages") == skip_reason("menuImport") == SkipReason.DISABLED
    # optionSets and itemTags are switched on, but what they need was not imported
    assert skip_reason("optionSets") == skip_reason("itemTags") == SkipReason.DEPENDENCY_NOT_MET
    assert job.status == StepStatus.COMPLETED
    assert resume_point(job.execution_config, job.step6_progress) is None


def test_non_blocking_failure_finishes_with_errors_and_resume_heals_it(harness: Harness) -> None:
    # given codeGeneration fails permanently once
    harness.fault("codeGeneration", "fail")
    job, _ = harness.run_job()
    # then the job completes with errors: the failure is recorded, its dependent skipped
    statuses = sub_step_statuses(job)
    assert statuses["codeGeneration"] == SubStepStatus.FAILED
    assert statuses["websiteConfig"] == SubStepStatus.SKIPPED
    assert job.step6_progress.sub_step("phase2", "websiteConfig").skip_reason == (
        SkipReason.DEPENDENCY_NOT_MET
    )
    assert job.status == StepStatus.COMPLETED
    assert (
        phase_statuses(job.execution_config, job.step6_progress)["phase1"]
        == PhaseStatus.COMPLETED_WITH_ERRORS
    )
    assert job.last_failure is not None and job.last_failure.sub_step == "codeGeneration"
    assert is_resumable(job) and resume_point(job.execution_config, job.step6_progress) == "phase1"
    calls_before = {e.sub_step: e.calls for e in harness.simulator.ledger()}
    # when it is resumed
    job, _ = harness.resume(job.job_id)
    # then only the failed sub-step and its dependent ran again
    calls_after = {e.sub_step: e.calls for e in harness.simulator.ledger()}
    rerun = {n for n in calls_after if calls_after[n] != calls_before.get(n, 0)}
    assert rerun == {"codeGeneration", "websiteConfig"}
    assert set(sub_step_statuses(job).values()) == {SubStepStatus.COMPLETED}
    assert job.status == StepStatus.COMPLETED and not is_resumable(job)
    assert set(harness.effect_counts(job.job_id).values()) == {1}


@pytest.mark.parametrize("sub_step", BLOCKING)
def test_blocking_failure_waits_at_step6_and_resumes_from_its_phase(
    harness: Harness, sub_step: str
) -> None:
    phase = phase_of(sub_step)
    # given a blocking sub-step that fails permanently once
    harness.fault(sub_step, "fail")
    job, first_arn = harness.run_job()
    # then Step 5 stays completed and the job waits at Step 6 with its failure named
    assert job.step(5).status == StepStatus.COMPLETED
    assert job.status == StepStatus.ACTION_REQUIRED
    assert job.current_step == 6
    assert job.step(6).status == StepStatus.FAILED
    assert job.last_failure is not None
    assert (job.last_failure.phase, job.last_failure.sub_step) == (phase, sub_step)
    assert job.last_failure.execution == first_arn
    assert resume_point(job.execution_config, job.step6_progress) == phase
    assert is_resumable(job)
    completed_before = {
        n for n, s in sub_step_statuses(job).items() if s == SubStepStatus.COMPLETED
    }
    # when it is resumed
    job, arn = harness.resume(job.job_id)
    # then the new execution starts at the failed phase, and earlier phases never run
    entered = harness.runtime.entered_states(arn)
    assert f"Phase{phase[-1]}" in entered
    earlier = [f"Phase{p[-1]}" for p in PHASE_NAMES[: PHASE_NAMES.index(phase)]]
    assert not set(earlier) & set(entered)
    # and nothing that had completed ran again; the job completed
    assert job.status == StepStatus.COMPLETED
    assert set(sub_step_statuses(job).values()) == {SubStepStatus.COMPLETED}
    calls = {e.sub_step: e.calls for e in harness.simulator.ledger()}
    for name in completed_before:
        assert calls[name] == 1, name
    assert set(harness.effect_counts(job.job_id).values()) == {1}


def test_crash_after_the_platform_call_is_not_repeated_on_resume(harness: Harness) -> None:
    # given restaurantRegistration takes effect and then the Lambda dies before its checkpoint
    harness.fault("restaurantRegistration", "crash_after")
    job, _ = harness.run_job()
    sub = job.step6_progress.sub_step("phase2", "restaurantRegistration")
    assert job.status == StepStatus.ACTION_REQUIRED
    assert sub.status == SubStepStatus.FAILED and sub.error_code == ErrorCode.INTERRUPTED
    assert harness.effect_counts(job.job_id)["restaurantRegistration"] == 1
    # when resumed, the sub-step runs again under the same idempotency key
    job, _ = harness.resume(job.job_id)
    assert job.status == StepStatus.COMPLETED
    assert harness.effect_counts(job.job_id)["restaurantRegistration"] == 1
    assert set(harness.effect_counts(job.job_id).values()) == {1}


@pytest.mark.parametrize("sub_step", BLOCKING)
def test_redrive_converges_with_api_resume(harness: Harness, sub_step: str) -> None:
    # given two identical jobs failing at the same blocking sub-step
    harness.fault(sub_step, "fail", times=2)
    resumed, _ = harness.run_job("Cafe Aroha")
    redriven, failed_arn = harness.run_job("Kai Kitchen")
    # when one is resumed through the API and the other redriven in place
    resumed, _ = harness.resume(resumed.job_id)
    status = harness.runtime.redrive(failed_arn)
    redriven = harness.jobs.get_job(redriven.job_id)
    # then both end in the same state
    assert status == "SUCCEEDED"
    assert redriven.status == resumed.status == StepStatus.COMPLETED
    assert sub_step_statuses(redriven) == sub_step_statuses(resumed)
    assert {n: o is not None for n, o in outputs(redriven).items()} == {
        n: o is not None for n, o in outputs(resumed).items()
    }
    assert redriven.run_number == 1 and resumed.run_number == 2
    assert set(harness.effect_counts(redriven.job_id).values()) == {1}


def test_audit_trail_records_failure_and_resume(harness: Harness) -> None:
    harness.fault("restaurantRegistration", "fail")
    job, _ = harness.run_job()
    job, _ = harness.resume(job.job_id)
    types = [e.type for e in harness.jobs.list_events(job.job_id)]
    assert types[0] == "job_created"
    assert "sub_step_failed" in types and "run_failed" in types
    assert (
        types.index("run_failed") < types.index("resume_requested") < types.index("run_succeeded")
    )


def test_an_event_the_reconciler_could_not_take_is_delivered_again(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a reconciler whose first delivery fails before it runs (its worker unreachable)
    invoke = harness.runtime.lambdas.invoke
    refused: list[str] = []

    def flaky(function: str, payload: dict[str, Any]) -> Any:
        if function.endswith(":ReconcileFunction") and not refused:
            refused.append(payload["detail"]["executionArn"])
            raise ConnectionResetError("the reconciler's worker went away")
        return invoke(function, payload)

    monkeypatch.setattr(harness.runtime.lambdas, "invoke", flaky)

    # when a run ends
    job, arn = harness.run_job()

    # then the watcher survived the failure, delivered the event again, and the job settled
    assert refused == [arn]
    assert job.status is StepStatus.COMPLETED
    assert [d.status for d in harness.runtime.delivered if d.execution_arn == arn] == ["SUCCEEDED"]
