"""Phase 3: the menu's option sets created on the imported menu."""

from __future__ import annotations

from typing import Any

from domain.menu_format import derive_option_sets
from domain.substeps.base import Entry, Needs, Output, SubStepInput, imported_menu, sub_step


@sub_step(
    Entry("phase3", 11, "Option sets", blocking=True, rerunnable=True),
    Needs(
        depends_on=("menuImport",),
        runs_if=("menu.addOptionSets",),
        reads_context=("restaurant_id", "menu_import_id"),
    ),
    Output("option_set_count", "result_id"),
)
def option_sets(inp: SubStepInput) -> dict[str, Any]:
    sets = derive_option_sets(inp.restaurant.menu)
    created = inp.platform.create_option_sets(inp.meta, **imported_menu(inp), option_sets=sets)
    return {"option_set_count": len(sets), "result_id": created.id}
