"""Phase 4: the menu's item tags added to the imported menu."""

from __future__ import annotations

from typing import Any

from domain.menu_format import derive_item_tags
from domain.substeps.base import SubStep, SubStepInput, imported_menu


def item_tags(inp: SubStepInput) -> dict[str, Any]:
    tags = derive_item_tags(inp.restaurant.menu)
    added = inp.platform.add_item_tags(inp.meta, **imported_menu(inp), item_tags=tags)
    return {"tag_count": len(tags), "result_id": added.id}


SUB_STEP = SubStep(
    name="itemTags",
    position=12,
    label="Item tags",
    phase="phase4",
    blocking=True,
    logic=item_tags,
    depends_on=("menuImport",),
    runs_if=("menu.addItemTags",),
    reads_context=("restaurant_id", "menu_import_id"),
    outputs=("tag_count", "result_id"),
    rerunnable=True,
)
