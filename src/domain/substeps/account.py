"""Phase 1-2 sub-steps about people: the platform account and the onboarding user."""

from __future__ import annotations

from typing import Any

from clients.platform import PermanentPlatformError
from domain.substeps.base import SubStepInput, require


def cloudwaitress_account(inp: SubStepInput) -> dict[str, Any]:
    """Reuse the account for the configured email, or create it (find first: safe to rerun).

    An account found that this very job created (its external reference is the job, e.g.
    after a crash right after the create call) counts as created, not reused.
    """
    account = inp.config.account
    existing = inp.platform.find_account(inp.meta, email=account.email)
    if not account.registerNewUser:
        if existing is None:
            raise PermanentPlatformError(
                f"no Pumpd account exists for {account.email}, and registerNewUser is false: "
                "register a new user or use the email of an existing account"
            )
        return {"account_id": existing.id, "email": account.email, "reused": True}
    if existing is not None:
        reused = existing.attributes.get("external_reference") != inp.job_id
        return {"account_id": existing.id, "email": account.email, "reused": reused}
    if not account.password_secret_ref:
        raise PermanentPlatformError(
            f"a new account for {account.email} needs a password, and the execution config "
            "has none (password_secret_ref is missing): submit Step 5 again with a password"
        )
    password = inp.secrets.get_password(account.password_secret_ref)
    created = inp.platform.create_account(
        inp.meta, email=account.email, password=password, name=inp.restaurant.name
    )
    return {"account_id": created.id, "email": account.email, "reused": False}


def create_onboarding_user(inp: SubStepInput) -> dict[str, Any]:
    created = inp.platform.create_onboarding_user(
        inp.meta, email=inp.config.account.email, name=inp.restaurant.name
    )
    return {"onboarding_user_id": created.id}


def sync_onboarding_user(inp: SubStepInput) -> dict[str, Any]:
    onboarding_user_id = require(inp.context.onboarding_user_id, "onboarding_user_id")
    synced = inp.platform.sync_onboarding_record(
        inp.meta,
        onboarding_user_id=onboarding_user_id,
        # In phase 2 it may run beside restaurantRegistration: the restaurant is optional.
        restaurant_id=inp.context.restaurant_id,
    )
    return {"sync_id": synced.id}
