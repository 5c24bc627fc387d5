"""Phase 2: the restaurant registered under the owner's account."""

from __future__ import annotations

from typing import Any

from domain.substeps.base import Entry, Needs, Output, SubStepInput, sub_step


# The restaurant is a unique object: registering it again would make a second one.
@sub_step(
    Entry("phase2", 5, "Restaurant registration", blocking=True, rerunnable=False),
    Needs(depends_on=("cloudwaitressAccount",), reads_context=("account_id",)),
    Output("restaurant_id", provides=("restaurant_id",)),
)
def restaurant_registration(inp: SubStepInput) -> dict[str, Any]:
    restaurant = inp.restaurant
    registered = inp.platform.register_restaurant(
        inp.meta,
        account_id=inp.context.require("account_id"),
        name=restaurant.name,
        phone=restaurant.phone,
        company=restaurant.company.model_dump(mode="json", exclude_none=True),
    )
    return {"restaurant_id": registered.id}
