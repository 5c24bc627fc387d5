"""Phase 2: the onboarding record synced with the platform (and the restaurant, once known)."""

from __future__ import annotations

from typing import Any

from domain.substeps.base import SubStep, SubStepInput


def sync_onboarding_user(inp: SubStepInput) -> dict[str, Any]:
    synced = inp.platform.sync_onboarding_record(
        inp.meta,
        onboarding_user_id=inp.context.require("onboarding_user_id"),
        # In phase 2 it may run beside restaurantRegistration: the restaurant is optional.
        restaurant_id=inp.context.get("restaurant_id"),
    )
    return {"sync_id": synced.id}


SUB_STEP = SubStep(
    name="syncOnboardingUser",
    position=10,
    label="Onboarding record sync",
    phase="phase2",
    blocking=False,
    logic=sync_onboarding_user,
    depends_on=("createOnboardingUser",),
    runs_if=("onboarding.syncOnboardingRecord",),
    reads_context=("onboarding_user_id",),
    may_read_context=("restaurant_id",),
    outputs=("sync_id",),
    rerunnable=True,
)
