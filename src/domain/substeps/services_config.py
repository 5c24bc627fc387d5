"""Phase 2: the restaurant's services (pickup, delivery, opening hours) set to defaults."""

from __future__ import annotations

from typing import Any

from domain.substeps.base import SubStep, SubStepInput

_WEEK = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def default_services() -> dict[str, Any]:
    """Pickup on, delivery off, and placeholder opening hours the restaurant edits later."""
    return {
        "pickup": {"enabled": True, "lead_time_minutes": 15},
        "delivery": {"enabled": False, "lead_time_minutes": 45, "minimum_order_cents": 0},
        "dine_in": {"enabled": False},
        "opening_hours": {
            "placeholder": True,
            "days": {day: [{"open": "09:00", "close": "21:00"}] for day in _WEEK},
        },
    }


def services_config(inp: SubStepInput) -> dict[str, Any]:
    configured = inp.platform.configure_services(
        inp.meta, restaurant_id=inp.context.require("restaurant_id"), services=default_services()
    )
    return {"services_id": configured.id}


SUB_STEP = SubStep(
    name="servicesConfig",
    position=7,
    label="Services configuration",
    phase="phase2",
    blocking=False,
    logic=services_config,
    depends_on=("restaurantRegistration",),
    reads_context=("restaurant_id",),
    outputs=("services_id",),
    rerunnable=True,
)
