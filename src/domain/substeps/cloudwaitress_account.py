"""Phase 1: the restaurant owner's platform account (found by email, or created)."""

from __future__ import annotations

from typing import Any

from domain.errors import InvalidConfigError
from domain.substeps.base import Entry, Needs, Output, SubStepInput, sub_step


# The account is a unique object: it is found again by email, never made twice.
@sub_step(
    Entry("phase1", 1, "Platform account", blocking=True, rerunnable=False),
    Needs(reads_config=("account.registerNewUser", "account.email", "account.password")),
    Output("account_id", "email", "reused", provides=("account_id",)),
)
def cloudwaitress_account(inp: SubStepInput) -> dict[str, Any]:
    """Reuse the account for the configured email, or create it (find first: safe to rerun).

    An account found that this very job created (its external reference is the job, e.g.
    after a crash right after the create call) counts as created, not reused.
    """
    account = inp.config.account
    existing = inp.platform.find_account(inp.meta, email=account.email)
    if not account.registerNewUser:
        if existing is None:
            raise InvalidConfigError(
                f"no Pumpd account exists for {account.email}, and registerNewUser is false: "
                "register a new user or use the email of an existing account"
            )
        return {"account_id": existing.id, "email": account.email, "reused": True}
    if existing is not None:
        reused = existing.attributes.get("external_reference") != inp.job_id
        return {"account_id": existing.id, "email": account.email, "reused": reused}
    if not account.password_secret_ref:
        raise InvalidConfigError(
            f"a new account for {account.email} needs a password, and the execution config "
            "has none: amend the config with a password, then resume"
        )
    password = inp.secrets.get_password(account.password_secret_ref)
    created = inp.platform.create_account(
        inp.meta, email=account.email, password=password, name=inp.restaurant.name
    )
    return {"account_id": created.id, "email": account.email, "reused": False}
