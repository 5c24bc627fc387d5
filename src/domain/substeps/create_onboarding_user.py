"""Phase 1: the onboarding user for the restaurant's owner."""

from __future__ import annotations

from typing import Any

from domain.substeps.base import Entry, Needs, Output, SubStepInput, sub_step


@sub_step(
    Entry("phase1", 3, "Onboarding user", blocking=False, rerunnable=False),
    Needs(runs_if=("onboarding.createOnboardingUser",), reads_config=("account.email",)),
    Output("onboarding_user_id", provides=("onboarding_user_id",)),
)
def create_onboarding_user(inp: SubStepInput) -> dict[str, Any]:
    created = inp.platform.create_onboarding_user(
        inp.meta, email=inp.config.account.email, name=inp.restaurant.name
    )
    return {"onboarding_user_id": created.id}
