"""The runtime context later sub-steps need, rebuilt from persisted outputs.

The seed kept `codeGenerationFilePaths`, `onboardingUserCreated` and `menuImportSucceeded` only
in memory, so a restart lost them. Here the context is a pure function of the progress.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from state.models import PHASE_NAMES, Step6Progress, SubStepStatus


class RunContext(BaseModel):
    model_config = ConfigDict(frozen=True)

    account_id: str | None = None
    account_email: str | None = None
    code_generation_file_paths: dict[str, str] | None = None
    code_bundle_id: str | None = None
    onboarding_user_created: bool = False
    onboarding_user_id: str | None = None
    image_ids: dict[str, str] | None = None
    restaurant_id: str | None = None
    menu_import_succeeded: bool = False
    menu_import_id: str | None = None


# Which context fields each sub-step reads; reconstruction must provide them once the
# sub-step's dependencies have completed (a property test holds it to that).
CONTEXT_NEEDS: dict[str, tuple[str, ...]] = {
    "restaurantRegistration": ("account_id",),
    "websiteConfig": ("restaurant_id", "code_generation_file_paths", "code_bundle_id"),
    "servicesConfig": ("restaurant_id",),
    "paymentConfig": ("restaurant_id",),
    "menuImport": ("restaurant_id",),
    "syncOnboardingUser": ("onboarding_user_id",),
    "optionSets": ("restaurant_id", "menu_import_id"),
    "itemTags": ("restaurant_id", "menu_import_id"),
}


def completed_outputs(progress: Step6Progress) -> dict[str, dict[str, Any]]:
    outputs: dict[str, dict[str, Any]] = {}
    for phase in PHASE_NAMES:
        current = progress.phases.get(phase)
        if current is None:
            continue
        for name, sub in current.sub_steps.items():
            if sub.status == SubStepStatus.COMPLETED:
                outputs[name] = sub.output or {}
    return outputs


def reconstruct_context(progress: Step6Progress) -> RunContext:
    outputs = completed_outputs(progress)
    account = outputs.get("cloudwaitressAccount", {})
    code = outputs.get("codeGeneration")
    onboarding = outputs.get("createOnboardingUser")
    images = outputs.get("uploadImages", {})
    registration = outputs.get("restaurantRegistration", {})
    menu_import = outputs.get("menuImport")
    return RunContext(
        account_id=account.get("account_id"),
        account_email=account.get("email"),
        code_generation_file_paths=dict(code["file_keys"]) if code else None,
        code_bundle_id=code.get("code_bundle_id") if code else None,
        onboarding_user_created=onboarding is not None,
        onboarding_user_id=onboarding.get("onboarding_user_id") if onboarding else None,
        image_ids=images.get("image_ids"),
        restaurant_id=registration.get("restaurant_id"),
        menu_import_succeeded=menu_import is not None,
        menu_import_id=menu_import.get("menu_import_id") if menu_import else None,
    )
