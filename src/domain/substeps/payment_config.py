"""Phase 2: the restaurant's payment options set to defaults."""

from __future__ import annotations

from typing import Any

from domain.substeps.base import SubStep, SubStepInput


def default_payments() -> dict[str, Any]:
    return {
        "online": {"enabled": True, "methods": ["card"]},
        "pay_at_counter": {"enabled": True},
        "tips": {"enabled": False},
    }


def payment_config(inp: SubStepInput) -> dict[str, Any]:
    configured = inp.platform.configure_payments(
        inp.meta, restaurant_id=inp.context.require("restaurant_id"), payments=default_payments()
    )
    return {"payment_config_id": configured.id}


SUB_STEP = SubStep(
    name="paymentConfig",
    position=8,
    label="Payment configuration",
    phase="phase2",
    blocking=False,
    logic=payment_config,
    depends_on=("restaurantRegistration",),
    reads_context=("restaurant_id",),
    outputs=("payment_config_id",),
    rerunnable=True,
)
