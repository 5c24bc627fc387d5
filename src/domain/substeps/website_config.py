"""Phase 2: the restaurant's website configured with the generated code."""

from __future__ import annotations

from typing import Any

from domain.codegen import CODE_FILES
from domain.substeps.base import Entry, InvalidInputError, Needs, Output, SubStepInput, sub_step


@sub_step(
    Entry("phase2", 6, "Website configuration", blocking=False, rerunnable=True),
    Needs(
        depends_on=("restaurantRegistration", "codeGeneration"),
        reads_context=("restaurant_id", "code_generation_file_paths", "code_bundle_id"),
    ),
    Output("website_id"),
)
def website_config(inp: SubStepInput) -> dict[str, Any]:
    """Read the generated files back from the store and configure the website with them."""
    restaurant_id = inp.context.require("restaurant_id")
    paths: dict[str, str] = inp.context.require("code_generation_file_paths")
    missing = [field for field in CODE_FILES if field not in paths]
    if missing:
        raise InvalidInputError(f"codeGeneration output lacks the file keys {missing}")
    website = inp.platform.configure_website(
        inp.meta,
        restaurant_id=restaurant_id,
        code_bundle_id=inp.context.require("code_bundle_id"),
        head_html=inp.store.get_text(paths["head_html"]),
        body_html=inp.store.get_text(paths["body_html"]),
        css=inp.store.get_text(paths["css"]),
    )
    return {"website_id": website.id}
