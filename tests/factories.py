"""Fixture factories: valid domain objects with the fields a test cares about overridden."""

from __future__ import annotations

from typing import Any

from domain.catalogue import CATALOGUE, SUB_STEPS
from domain.onboarding import new_job
from local.samples import restaurant_data
from state.models import (
    AccountConfig,
    ExecutionConfig,
    Job,
    MenuConfig,
    OnboardingConfig,
    PhaseProgress,
    Restaurant,
    SkipReason,
    Step6Progress,
    SubStepProgress,
    SubStepStatus,
)


def make_restaurant(name: str = "Cafe Aroha", **overrides: Any) -> Restaurant:
    return Restaurant.model_validate(restaurant_data(name, **overrides))


def make_config(
    *, disabled: tuple[str, ...] = (), menu: bool = True, onboarding: bool = True
) -> ExecutionConfig:
    return ExecutionConfig(
        account=AccountConfig(email="owner@aroha.example", password_secret_ref="ref"),
        menu=MenuConfig(
            selectedMenuId="m-1" if menu else None,
            uploadImages=menu,
            addOptionSets=menu,
            addItemTags=menu,
        ),
        onboarding=OnboardingConfig(
            createOnboardingUser=onboarding, syncOnboardingRecord=onboarding
        ),
        steps_enabled=dict.fromkeys(disabled, False),
    )


def make_progress(
    statuses: dict[str, SubStepStatus] | None = None,
    *,
    skip_reasons: dict[str, SkipReason] | None = None,
) -> Step6Progress:
    """Progress with the given sub-step statuses (others pending) and outputs for completed."""
    statuses = statuses or {}
    phases: dict[str, PhaseProgress] = {}
    for spec in CATALOGUE:
        status = statuses.get(spec.name, SubStepStatus.PENDING)
        sub = SubStepProgress(
            status=status,
            attempts=0 if status == SubStepStatus.PENDING else 1,
            output=sample_output(spec.name) if status == SubStepStatus.COMPLETED else None,
            skip_reason=(skip_reasons or {}).get(spec.name),
            error="boom" if status == SubStepStatus.FAILED else None,
        )
        phases.setdefault(spec.phase, PhaseProgress()).sub_steps[spec.name] = sub
    return Step6Progress(phases=phases)  # type: ignore[arg-type]


def sample_output(name: str) -> dict[str, Any]:
    return {
        "cloudwaitressAccount": {"account_id": "acc-1", "email": "o@a.example", "reused": False},
        "codeGeneration": {
            "file_keys": {"head_html": "h", "body_html": "b", "css": "c"},
            "checksum": "x",
            "code_bundle_id": "cb-1",
        },
        "createOnboardingUser": {"onboarding_user_id": "ou-1"},
        "uploadImages": {"image_ids": {"u": "i-1"}, "count": 1},
        "restaurantRegistration": {"restaurant_id": "r-1"},
        "menuImport": {
            "menu_import_id": "mi-1",
            "item_count": 1,
            "category_count": 1,
            "import_key": "k",
        },
    }.get(name, {"id": f"{name}-1"})


def make_job(name: str = "Cafe Aroha", batch_id: str = "b-1", org_id: str = "org-a") -> Job:
    return new_job(batch_id, org_id, make_restaurant(name))


def make_configured_job(
    statuses: dict[str, SubStepStatus] | None = None,
    *,
    disabled: tuple[str, ...] = (),
    skip_reasons: dict[str, SkipReason] | None = None,
    password_ref: str | None = "ref",
) -> Job:
    """A job past Step 5 (config with a password reference) with the given sub-step statuses."""
    config = make_config(disabled=disabled)
    config.account.password_secret_ref = password_ref
    progress = make_progress(statuses, skip_reasons=skip_reasons)
    return make_job().model_copy(update={"execution_config": config, "step6_progress": progress})


ALL_SUB_STEPS = tuple(SUB_STEPS)
