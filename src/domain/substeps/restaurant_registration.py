"""Phase 2: the restaurant registered under the owner's account."""

from __future__ import annotations

from typing import Any

from domain.substeps.base import SubStep, SubStepInput


def restaurant_registration(inp: SubStepInput) -> dict[str, Any]:
    restaurant = inp.restaurant
    registered = inp.platform.register_restaurant(
        inp.meta,
        account_id=inp.context.require("account_id"),
        name=restaurant.name,
        phone=restaurant.phone,
        company=restaurant.company.model_dump(mode="json"),
    )
    return {"restaurant_id": registered.id}


SUB_STEP = SubStep(
    name="restaurantRegistration",
    position=5,
    label="Restaurant registration",
    phase="phase2",
    blocking=True,
    logic=restaurant_registration,
    depends_on=("cloudwaitressAccount",),
    reads_context=("account_id",),
    outputs=("restaurant_id",),
    provides={"restaurant_id": "restaurant_id"},
    # The restaurant is a unique object: registering it again would make a second one.
    rerunnable=False,
)
