"""Each Step 6 sub-step's own logic, by catalogue name.

Every function takes a `SubStepInput` and returns its small output (persisted with the
completion; `domain.context` rebuilds the run context from it). Each makes exactly one
mutating platform call, carrying `inp.meta` and so the idempotency key
`<job_id>:<sub_step>` (cloudwaitressAccount looks the account up first and may make none).
"""

from __future__ import annotations

from domain.substeps.account import (
    cloudwaitress_account,
    create_onboarding_user,
    sync_onboarding_user,
)
from domain.substeps.base import (
    InvalidInputError,
    MissingContextError,
    SubStepInput,
    SubStepLogic,
    require,
)
from domain.substeps.menu import item_tags, menu_import, option_sets, upload_images
from domain.substeps.restaurant import payment_config, restaurant_registration, services_config
from domain.substeps.website import code_generation, website_config

SUB_STEP_LOGIC: dict[str, SubStepLogic] = {
    "cloudwaitressAccount": cloudwaitress_account,
    "codeGeneration": code_generation,
    "createOnboardingUser": create_onboarding_user,
    "uploadImages": upload_images,
    "restaurantRegistration": restaurant_registration,
    "websiteConfig": website_config,
    "servicesConfig": services_config,
    "paymentConfig": payment_config,
    "menuImport": menu_import,
    "syncOnboardingUser": sync_onboarding_user,
    "optionSets": option_sets,
    "itemTags": item_tags,
}

__all__ = [
    "SUB_STEP_LOGIC",
    "InvalidInputError",
    "MissingContextError",
    "SubStepInput",
    "SubStepLogic",
    "require",
]
