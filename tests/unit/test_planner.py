"""The planner: what a phase runs, skips and leaves alone, given config and persisted progress."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from phases.catalogue import CATALOGUE, SUB_STEPS, sub_steps_of
from phases.context import CONTEXT_NEEDS, reconstruct_context
from phases.planner import phase_status, plan_phase
from phases.resume import resume_point
from state.models import PHASE_NAMES, PhaseStatus, SkipReason, SubStepStatus
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


@settings(max_examples=300, deadline=None)
@given(statuses=progress_strategy, config=config_strategy)
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


@settings(max_examples=300, deadline=None)
@given(
    phase_statuses=st.fixed_dictionaries(
        {p: st.sampled_from(list(PhaseStatus)) for p in PHASE_NAMES}
    )
)
def test_resume_point_is_the_first_phase_not_completed(
    phase_statuses: dict[str, PhaseStatus],
) -> None:
    progress = make_progress(phase_statuses=phase_statuses)
    point = resume_point(progress)
    not_completed = [p for p in PHASE_NAMES if phase_statuses[p] != PhaseStatus.COMPLETED]
    assert point == (not_completed[0] if not_completed else None)


@settings(max_examples=300, deadline=None)
@given(statuses=progress_strategy, config=config_strategy)
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
                assert getattr(context, field) is not None, (name, field)
