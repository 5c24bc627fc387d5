"""The planner: what a phase runs, skips and leaves alone, given config and persisted progress."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clients.platform import PermanentPlatformError
from domain.catalogue import CATALOGUE, CONTEXT_NEEDS, SUB_STEPS, sub_steps_of
from domain.context import reconstruct_context
from domain.planner import disabled_ancestor, phase_status, plan_phase
from domain.resume import resume_point
from domain.runner import PhaseRunner, RetryPolicy
from state.models import PHASE_NAMES, PhaseStatus, SkipReason, SubStepProgress, SubStepStatus
from tests.factories import make_config, make_progress


def test_fresh_phase1_runs_all_four_concurrently() -> None:
    # given a fresh job with everything enabled
    plan = plan_phase("phase1", make_config(), make_progress())
    # then all four run and none waits for another
    assert plan.run == (
        "cloudwaitressAccount",
        "codeGeneration",
        "createOnboardingUser",
        "uploadImages",
    )
    assert all(not w for w in plan.waits_for.values())


def test_phase2_runs_registration_first_then_the_rest() -> None:
    progress = make_progress({s.name: SubStepStatus.COMPLETED for s in sub_steps_of("phase1")})
    plan = plan_phase("phase2", make_config(), progress)
    assert plan.run[0] == "restaurantRegistration"
    assert plan.waits_for["restaurantRegistration"] == ()
    for name in ("websiteConfig", "servicesConfig", "paymentConfig", "menuImport"):
        assert plan.waits_for[name] == ("restaurantRegistration",)
    assert plan.waits_for["syncOnboardingUser"] == ()


def test_completed_sub_steps_are_never_planned() -> None:
    progress = make_progress(
        {"cloudwaitressAccount": SubStepStatus.COMPLETED, "codeGeneration": SubStepStatus.FAILED}
    )
    plan = plan_phase("phase1", make_config(), progress)
    assert "cloudwaitressAccount" in plan.done
    assert "codeGeneration" in plan.run


def test_disabled_sub_step_is_skipped_and_its_dependents_are_not_met() -> None:
    config = make_config(disabled=("codeGeneration",))
    progress = make_progress({"cloudwaitressAccount": SubStepStatus.COMPLETED})
    assert plan_phase("phase1", config, progress).skip["codeGeneration"] == SkipReason.DISABLED
    progress = make_progress(
        {
            "cloudwaitressAccount": SubStepStatus.COMPLETED,
            "createOnboardingUser": SubStepStatus.COMPLETED,
            "uploadImages": SubStepStatus.COMPLETED,
        },
        skip_reasons={"codeGeneration": SkipReason.DISABLED},
    )
    plan2 = plan_phase("phase2", config, progress)
    assert plan2.skip["websiteConfig"] == SkipReason.DEPENDENCY_NOT_MET
    assert "websiteConfig" not in plan2.run


def test_config_conditions_disable_menu_and_onboarding_sub_steps() -> None:
    plan = plan_phase("phase1", make_config(menu=False, onboarding=False), make_progress())
    assert plan.skip == {
        "createOnboardingUser": SkipReason.DISABLED,
        "uploadImages": SkipReason.DISABLED,
    }


def test_failed_dependency_in_an_earlier_phase_is_not_met() -> None:
    progress = make_progress({"cloudwaitressAccount": SubStepStatus.FAILED})
    plan = plan_phase("phase2", make_config(), progress)
    assert plan.skip["restaurantRegistration"] == SkipReason.DEPENDENCY_NOT_MET
    # dependents inside the phase follow their skipped dependency
    assert plan.skip["menuImport"] == SkipReason.DEPENDENCY_NOT_MET


def test_phase_status_from_sub_steps() -> None:
    config = make_config()
    all_done = {s.name: SubStepStatus.COMPLETED for s in sub_steps_of("phase1")}
    assert phase_status("phase1", config, make_progress(all_done)) == PhaseStatus.COMPLETED
    failed_blocking = all_done | {"cloudwaitressAccount": SubStepStatus.FAILED}
    assert phase_status("phase1", config, make_progress(failed_blocking)) == PhaseStatus.FAILED
    failed_other = all_done | {"codeGeneration": SubStepStatus.FAILED}
    assert (
        phase_status("phase1", config, make_progress(failed_other))
        == PhaseStatus.COMPLETED_WITH_ERRORS
    )
    assert phase_status("phase1", config, make_progress()) == PhaseStatus.PENDING


def test_a_skip_forced_by_a_disabled_dependency_still_completes_the_phase() -> None:
    # given codeGeneration disabled, websiteConfig can never run: its skip is final
    config = make_config(disabled=("codeGeneration",))
    statuses = {s.name: SubStepStatus.COMPLETED for s in sub_steps_of("phase2")}
    statuses["websiteConfig"] = SubStepStatus.SKIPPED
    progress = make_progress(
        statuses, skip_reasons={"websiteConfig": SkipReason.DEPENDENCY_NOT_MET}
    )
    assert phase_status("phase2", config, progress) == PhaseStatus.COMPLETED


# ---------------------------------------------------------------- properties

sub_step_status = st.sampled_from(list(SubStepStatus))


def _consistent(statuses: dict[str, SubStepStatus]) -> dict[str, SubStepStatus]:
    """Persisted progress can only show a sub-step completed once its dependencies were."""
    fixed = dict(statuses)
    for spec in CATALOGUE:  # catalogue order is a topological order
        if fixed[spec.name] == SubStepStatus.COMPLETED and any(
            fixed[d] != SubStepStatus.COMPLETED for d in spec.depends_on
        ):
            fixed[spec.name] = SubStepStatus.PENDING
    return fixed


progress_strategy = st.fixed_dictionaries({s.name: sub_step_status for s in CATALOGUE}).map(
    _consistent
)
config_strategy = st.builds(
    make_config,
    disabled=st.lists(st.sampled_from([s.name for s in CATALOGUE]), unique=True).map(tuple),
    menu=st.booleans(),
    onboarding=st.booleans(),
)


def for_any_statuses_and_config(test: Callable[..., None]) -> Callable[..., None]:
    """The property holds for 300 generated (consistent) sub-step statuses and configs."""
    examples = given(statuses=progress_strategy, config=config_strategy)(test)
    return settings(max_examples=300, deadline=None)(examples)


@for_any_statuses_and_config
def test_planner_properties(statuses: dict[str, SubStepStatus], config: object) -> None:
    progress = make_progress(statuses)
    for phase in PHASE_NAMES:
        plan = plan_phase(phase, config, progress)  # type: ignore[arg-type]
        for name in plan.run:
            spec = SUB_STEPS[name]
            # never a completed sub-step, never a disabled one
            assert statuses[name] != SubStepStatus.COMPLETED
            assert spec.enabled(config)  # type: ignore[arg-type]
            # dependencies from earlier phases have succeeded; in-phase ones are awaited
            for dep in spec.depends_on:
                if SUB_STEPS[dep].phase != phase:
                    assert statuses[dep] == SubStepStatus.COMPLETED
                else:
                    assert statuses[dep] == SubStepStatus.COMPLETED or dep in plan.waits_for[name]
        # every sub-step of the phase is exactly one of run / skip / done
        names = {s.name for s in sub_steps_of(phase)}
        assert set(plan.run) | set(plan.skip) | set(plan.done) == names
        assert not (set(plan.run) & set(plan.skip))


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ({}, "phase1"),
        ({s.name: SubStepStatus.COMPLETED for s in sub_steps_of("phase1")}, "phase2"),
        (
            {s.name: SubStepStatus.COMPLETED for s in CATALOGUE}
            | {"paymentConfig": SubStepStatus.FAILED},
            "phase2",
        ),
        ({s.name: SubStepStatus.COMPLETED for s in CATALOGUE}, None),
    ],
)
def test_resume_point_is_the_first_phase_not_completed(
    statuses: dict[str, SubStepStatus], expected: str | None
) -> None:
    # given the progress of the sub-steps (phase statuses are derived, never stored)
    config = make_config()
    # then a resume starts at the first phase whose derived status is not completed
    assert resume_point(config, make_progress(statuses)) == expected
    assert resume_point(None, make_progress(statuses)) == "phase1"  # before Step 5


@for_any_statuses_and_config
def test_context_has_every_output_a_planned_sub_step_needs(
    statuses: dict[str, SubStepStatus], config: object
) -> None:
    progress = make_progress(statuses)
    context = reconstruct_context(progress)
    for phase in PHASE_NAMES:
        plan = plan_phase(phase, config, progress)  # type: ignore[arg-type]
        for name in plan.run:
            if plan.waits_for.get(name):
                continue  # its in-phase inputs appear once what it waits for completes
            for field in CONTEXT_NEEDS.get(name, ()):
                assert context.get(field) is not None, (name, field)


# ---------------------------------------------------------------- properties over any progress
#
# Where each property of the Step 6 planner is proved (issue 4, part 8):
# - never plans a completed sub-step ........ test_planner_properties, and
#                                              test_any_progress_plans_nothing_completed_or_disabled
# - never runs a sub-step before its dependencies succeeded:
#     in the plan ........................... test_planner_properties
#     at run time (random outcomes) ......... test_the_runner_never_starts_a_sub_step_before_its_...
# - never runs a disabled one ............... test_planner_properties,
#                                              test_any_progress_plans_nothing_completed_or_disabled
# - resume_from is the first phase not completed:
#     over phase statuses ................... test_resume_point_is_the_first_phase_not_completed
#     over sub-step progress, as settled .... test_the_resume_point_leaves_nothing_to_do_before_it
# - context gives every output a planned sub-step needs:
#     with nothing awaited .................. test_context_has_every_output_a_planned_sub_step_needs
#     once what it awaits has completed ..... test_context_covers_in_phase_inputs_once_they_complete
# Whole histories (faults, lost events, resumes, redrives): tests/unit/test_step6_stateful.py

skip_reason = st.sampled_from([None, SkipReason.DISABLED, SkipReason.DEPENDENCY_NOT_MET])
# Any persisted progress: every status, any skip reason, no consistency assumed.
any_progress_strategy = st.tuples(
    st.fixed_dictionaries({s.name: sub_step_status for s in CATALOGUE}),
    st.fixed_dictionaries({s.name: skip_reason for s in CATALOGUE}),
)


@settings(max_examples=300, deadline=None)
@given(progress=any_progress_strategy, config=config_strategy)
def test_any_progress_plans_nothing_completed_or_disabled(
    progress: tuple[dict[str, SubStepStatus], dict[str, SkipReason | None]], config: object
) -> None:
    statuses, reasons = progress
    persisted = make_progress(
        statuses, skip_reasons={n: r for n, r in reasons.items() if r is not None}
    )
    for phase in PHASE_NAMES:
        plan = plan_phase(phase, config, persisted)  # type: ignore[arg-type]
        for spec in sub_steps_of(phase):
            if statuses[spec.name] == SubStepStatus.COMPLETED:
                # completed: left alone, neither run nor re-marked as skipped
                assert spec.name in plan.done
            if not spec.enabled(config) or disabled_ancestor(spec, config) is not None:  # type: ignore[arg-type]
                assert spec.name not in plan.run
        for name in plan.run:
            # every dependency has succeeded already, or is awaited in this phase
            for dep in SUB_STEPS[name].depends_on:
                assert statuses[dep] == SubStepStatus.COMPLETED or dep in plan.waits_for[name]


@settings(max_examples=200, deadline=None)
@given(data=st.data(), statuses=progress_strategy, config=config_strategy)
def test_the_runner_never_starts_a_sub_step_before_its_dependencies(
    data: st.DataObject, statuses: dict[str, SubStepStatus], config: object
) -> None:
    # given a plan for persisted progress, and sub-steps that succeed or fail at random
    persisted = make_progress(statuses)
    fails = data.draw(st.sets(st.sampled_from([s.name for s in CATALOGUE])), label="fails")
    for phase in PHASE_NAMES:
        plan = plan_phase(phase, config, persisted)  # type: ignore[arg-type]
        started: list[str] = []

        def execute(
            name: str, so_far: Mapping[str, SubStepProgress], started: list[str] = started
        ) -> dict[str, Any]:
            # when the runner starts a sub-step, each dependency has succeeded: before this
            # run (persisted) or in it
            for dep in SUB_STEPS[name].depends_on:
                done_before = statuses[dep] == SubStepStatus.COMPLETED
                done_now = dep in so_far and so_far[dep].status == SubStepStatus.COMPLETED
                assert done_before or done_now, (name, dep)
            started.append(name)
            if name in fails:
                raise PermanentPlatformError("no")
            return {"ok": name}

        results = PhaseRunner(
            checkpoint=lambda *_: None,
            execute=execute,
            retry=RetryPolicy(max_attempts=1, base_delay_s=0),
            sleep=lambda _: None,
        ).run(plan, dict(persisted.phases[phase].sub_steps))
        # then what could not start was skipped as dependency_not_met, never run
        for name in set(plan.run) - set(started):
            assert results[name].status == SubStepStatus.SKIPPED
            assert results[name].skip_reason == SkipReason.DEPENDENCY_NOT_MET


@for_any_statuses_and_config
def test_the_resume_point_leaves_nothing_to_do_before_it(
    statuses: dict[str, SubStepStatus], config: object
) -> None:
    # given any progress (phase statuses are derived from the sub-steps)
    progress = make_progress(statuses)
    point = resume_point(config, progress)  # type: ignore[arg-type]
    earned = {p: phase_status(p, config, progress) for p in PHASE_NAMES}  # type: ignore[arg-type]
    unfinished = [p for p in PHASE_NAMES if earned[p] != PhaseStatus.COMPLETED]
    # then the resume starts no later than the first phase with work left
    if unfinished:
        assert point is not None
        assert PHASE_NAMES.index(point) <= PHASE_NAMES.index(unfinished[0])
    # and every phase before it is completed, with nothing left to run
    before = PHASE_NAMES if point is None else PHASE_NAMES[: PHASE_NAMES.index(point)]
    for phase in before:
        assert earned[phase] == PhaseStatus.COMPLETED
        assert plan_phase(phase, config, progress).run == ()  # type: ignore[arg-type]


@for_any_statuses_and_config
def test_context_covers_in_phase_inputs_once_they_complete(
    statuses: dict[str, SubStepStatus], config: object
) -> None:
    # given a planned sub-step that waits for others in its phase
    progress = make_progress(statuses)
    for phase in PHASE_NAMES:
        plan = plan_phase(phase, config, progress)  # type: ignore[arg-type]
        for name in plan.run:
            awaited = plan.waits_for.get(name, ())
            if not awaited:
                continue
            # when what it awaits has completed (with its output), as the runner requires
            after = make_progress({**statuses, **dict.fromkeys(awaited, SubStepStatus.COMPLETED)})
            context = reconstruct_context(after)
            # then the context has every field it reads
            for field in CONTEXT_NEEDS.get(name, ()):
                assert context.get(field) is not None, (name, field)
