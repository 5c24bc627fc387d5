"""The 12 Step 6 sub-steps, their phases, dependencies and switches (DESIGN section 3)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from state.models import ExecutionConfig, PhaseName


def _always(_: ExecutionConfig) -> bool:
    return True


@dataclass(frozen=True)
class SubStepSpec:
    name: str
    phase: PhaseName
    depends_on: tuple[str, ...]
    blocking: bool
    # The config condition besides `steps_enabled` (e.g. onboarding.createOnboardingUser).
    condition: Callable[[ExecutionConfig], bool] = _always
    condition_text: str = "steps_enabled"

    def enabled(self, config: ExecutionConfig) -> bool:
        return config.steps_enabled.get(self.name, True) and self.condition(config)


CATALOGUE: tuple[SubStepSpec, ...] = (
    SubStepSpec("cloudwaitressAccount", "phase1", (), blocking=True),
    SubStepSpec("codeGeneration", "phase1", (), blocking=False),
    SubStepSpec(
        "createOnboardingUser",
        "phase1",
        (),
        blocking=False,
        condition=lambda c: c.onboarding.createOnboardingUser,
        condition_text="steps_enabled and onboarding.createOnboardingUser",
    ),
    SubStepSpec(
        "uploadImages",
        "phase1",
        (),
        blocking=False,
        condition=lambda c: bool(c.menu.selectedMenuId) and c.menu.uploadImages,
        condition_text="steps_enabled and menu.selectedMenuId and menu.uploadImages",
    ),
    SubStepSpec("restaurantRegistration", "phase2", ("cloudwaitressAccount",), blocking=True),
    SubStepSpec(
        "websiteConfig", "phase2", ("restaurantRegistration", "codeGeneration"), blocking=False
    ),
    SubStepSpec("servicesConfig", "phase2", ("restaurantRegistration",), blocking=False),
    SubStepSpec("paymentConfig", "phase2", ("restaurantRegistration",), blocking=False),
    SubStepSpec(
        "menuImport",
        "phase2",
        ("restaurantRegistration",),
        blocking=False,
        condition=lambda c: bool(c.menu.selectedMenuId),
        condition_text="steps_enabled and menu.selectedMenuId",
    ),
    SubStepSpec(
        "syncOnboardingUser",
        "phase2",
        ("createOnboardingUser",),
        blocking=False,
        condition=lambda c: c.onboarding.syncOnboardingRecord,
        condition_text="steps_enabled and onboarding.syncOnboardingRecord",
    ),
    SubStepSpec(
        "optionSets",
        "phase3",
        ("menuImport",),
        blocking=True,
        condition=lambda c: c.menu.addOptionSets,
        condition_text="steps_enabled and menu.addOptionSets",
    ),
    SubStepSpec(
        "itemTags",
        "phase4",
        ("menuImport",),
        blocking=True,
        condition=lambda c: c.menu.addItemTags,
        condition_text="steps_enabled and menu.addItemTags",
    ),
)

SUB_STEPS: dict[str, SubStepSpec] = {spec.name: spec for spec in CATALOGUE}
SUB_STEP_NAMES: tuple[str, ...] = tuple(SUB_STEPS)


def sub_steps_of(phase: PhaseName) -> tuple[SubStepSpec, ...]:
    return tuple(spec for spec in CATALOGUE if spec.phase == phase)


def phase_of(sub_step: str) -> PhaseName:
    return SUB_STEPS[sub_step].phase


def dependents_of(sub_step: str) -> tuple[str, ...]:
    """Every sub-step that needs `sub_step`, directly or through others."""
    found: list[str] = []
    frontier = [sub_step]
    while frontier:
        current = frontier.pop()
        for spec in CATALOGUE:
            if current in spec.depends_on and spec.name not in found:
                found.append(spec.name)
                frontier.append(spec.name)
    return tuple(n for n in SUB_STEP_NAMES if n in found)
