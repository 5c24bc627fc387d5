"""Phase 4: the menu's item tags added to the imported menu."""

from __future__ import annotations

from typing import Any

from domain.menu_format import derive_item_tags
from domain.substeps.base import Entry, Needs, Output, SubStepInput, imported_menu, sub_step


@sub_step(
    Entry("phase4", 12, "Item tags", blocking=True, rerunnable=True),
    Needs(
        depends_on=("menuImport",),
        runs_if=("menu.addItemTags",),
        reads_context=("restaurant_id", "menu_import_id"),
    ),
    Output("tag_count", "result_id"),
)
def item_tags(inp: SubStepInput) -> dict[str, Any]:
    tags = derive_item_tags(inp.restaurant.menu)
    added = inp.platform.add_item_tags(inp.meta, **imported_menu(inp), item_tags=tags)
    return {"tag_count": len(tags), "result_id": added.id}
