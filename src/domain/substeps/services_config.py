"""Phase 2: the restaurant's services (pickup, delivery, opening hours) set to defaults."""

from __future__ import annotations

from typing import Any

from domain.substeps.base import Entry, Needs, Output, SubStepInput, sub_step

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


@sub_step(
    Entry("phase2", 7, "Services configuration", blocking=False, rerunnable=True),
    Needs(depends_on=("restaurantRegistration",), reads_context=("restaurant_id",)),
    Output("services_id"),
)
def services_config(inp: SubStepInput) -> dict[str, Any]:
    configured = inp.platform.configure_services(
        inp.meta, restaurant_id=inp.context.require("restaurant_id"), services=default_services()
    )
    return {"services_id": configured.id}
