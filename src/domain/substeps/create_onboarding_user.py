"""Phase 1: the onboarding user for the restaurant's owner."""

from __future__ import annotations

from typing import Any

from domain.substeps.base import SubStep, SubStepInput


def create_onboarding_user(inp: SubStepInput) -> dict[str, Any]:
    created = inp.platform.create_onboarding_user(
        inp.meta, email=inp.config.account.email, name=inp.restaurant.name
    )
    return {"onboarding_user_id": created.id}


SUB_STEP = SubStep(
    name="createOnboardingUser",
    position=3,
    label="Onboarding user",
    phase="phase1",
    blocking=False,
    logic=create_onboarding_user,
    runs_if=("onboarding.createOnboardingUser",),
    reads_config=("account.email",),
    outputs=("onboarding_user_id",),
    provides={"onboarding_user_id": "onboarding_user_id"},
    rerunnable=False,
)
