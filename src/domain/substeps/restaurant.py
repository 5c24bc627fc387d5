"""Phase 2 sub-steps that set the restaurant up: registration, services and payments."""

from __future__ import annotations

from typing import Any

from domain.substeps.base import SubStepInput, require

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


def default_payments() -> dict[str, Any]:
    return {
        "online": {"enabled": True, "methods": ["card"]},
        "pay_at_counter": {"enabled": True},
        "tips": {"enabled": False},
    }


def restaurant_registration(inp: SubStepInput) -> dict[str, Any]:
    account_id = require(inp.context.account_id, "account_id")
    restaurant = inp.restaurant
    registered = inp.platform.register_restaurant(
        inp.meta,
        account_id=account_id,
        name=restaurant.name,
        phone=restaurant.phone,
        company=restaurant.company.model_dump(mode="json"),
    )
    return {"restaurant_id": registered.id}


def services_config(inp: SubStepInput) -> dict[str, Any]:
    restaurant_id = require(inp.context.restaurant_id, "restaurant_id")
    configured = inp.platform.configure_services(
        inp.meta, restaurant_id=restaurant_id, services=default_services()
    )
    return {"services_id": configured.id}


def payment_config(inp: SubStepInput) -> dict[str, Any]:
    restaurant_id = require(inp.context.restaurant_id, "restaurant_id")
    configured = inp.platform.configure_payments(
        inp.meta, restaurant_id=restaurant_id, payments=default_payments()
    )
    return {"payment_config_id": configured.id}
