"""Phase 2: the restaurant's payment options set to defaults."""

from __future__ import annotations

from typing import Any

from domain.substeps.base import Entry, Needs, Output, SubStepInput, sub_step


def default_payments() -> dict[str, Any]:
    return {
        "online": {"enabled": True, "methods": ["card"]},
        "pay_at_counter": {"enabled": True},
        "tips": {"enabled": False},
    }


@sub_step(
    Entry("phase2", 8, "Payment configuration", blocking=False, rerunnable=True),
    Needs(depends_on=("restaurantRegistration",), reads_context=("restaurant_id",)),
    Output("payment_config_id"),
)
def payment_config(inp: SubStepInput) -> dict[str, Any]:
    configured = inp.platform.configure_payments(
        inp.meta, restaurant_id=inp.context.require("restaurant_id"), payments=default_payments()
    )
    return {"payment_config_id": configured.id}
