"""Phase 2: the menu converted to the platform's import format and imported."""

from __future__ import annotations

import json
from typing import Any

from domain.menu_format import to_menu_import
from domain.substeps.base import (
    Entry,
    InvalidInputError,
    Needs,
    Output,
    SubStepInput,
    generated_prefix,
    sub_step,
)


@sub_step(
    Entry("phase2", 9, "Menu import", blocking=False, rerunnable=True),
    Needs(
        depends_on=("restaurantRegistration",),
        runs_if=("menu.selectedMenuId",),
        reads_context=("restaurant_id",),
    ),
    Output(
        "menu_import_id", "item_count", "category_count", "import_key", provides=("menu_import_id",)
    ),
)
def menu_import(inp: SubStepInput) -> dict[str, Any]:
    """Convert the menu, keep the document in the store, import it (one platform call)."""
    restaurant_id = inp.context.require("restaurant_id")
    try:
        document = to_menu_import(inp.restaurant.menu)
    except ValueError as error:
        raise InvalidInputError(str(error)) from error
    key = f"{generated_prefix(inp.job_id)}/menu-import.json"
    inp.store.put_text(key, json.dumps(document, sort_keys=True), "application/json")
    imported = inp.platform.import_menu(inp.meta, restaurant_id=restaurant_id, menu_import=document)
    categories = document["categories"]
    return {
        "menu_import_id": imported.id,
        "item_count": sum(len(c["items"]) for c in categories),
        "category_count": len(categories),
        "import_key": key,
    }
