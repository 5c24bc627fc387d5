"""The menu sub-steps: images (phase 1), import (phase 2), option sets (3) and tags (4)."""

from __future__ import annotations

import json
from typing import Any

from domain.menu_format import (
    derive_item_tags,
    derive_option_sets,
    image_urls,
    to_menu_import,
)
from domain.substeps.base import InvalidInputError, SubStepInput, require
from domain.substeps.website import generated_prefix

# Outputs stay small; a bigger image map lives only in the object store.
MAX_INLINE_IMAGE_IDS_BYTES = 1_500


def upload_images(inp: SubStepInput) -> dict[str, Any]:
    """Upload every item image (de-duplicated, menu order) in one platform call."""
    menu_id = require(inp.config.menu.selectedMenuId, "menu.selectedMenuId")
    urls = image_urls(inp.restaurant.menu)
    uploaded = inp.platform.upload_images(inp.meta, menu_id=menu_id, image_urls=urls)
    raw_ids = uploaded.attributes.get("image_ids", {})
    image_ids = {str(url): str(raw_ids[url]) for url in urls if url in raw_ids}
    if len(image_ids) != len(urls):
        raise InvalidInputError(
            f"the platform returned ids for {len(image_ids)} of {len(urls)} images"
        )
    encoded = json.dumps(image_ids, sort_keys=True)
    key = f"{generated_prefix(inp.job_id)}/image-ids.json"
    inp.store.put_text(key, encoded, "application/json")
    inline = len(encoded.encode()) <= MAX_INLINE_IMAGE_IDS_BYTES
    return {
        "image_ids": image_ids if inline else None,
        "count": len(image_ids),
        "image_ids_key": key,
        "upload_id": uploaded.id,
    }


def menu_import(inp: SubStepInput) -> dict[str, Any]:
    """Convert the menu, keep the document in the store, import it (one platform call)."""
    restaurant_id = require(inp.context.restaurant_id, "restaurant_id")
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


def option_sets(inp: SubStepInput) -> dict[str, Any]:
    restaurant_id = require(inp.context.restaurant_id, "restaurant_id")
    menu_import_id = require(inp.context.menu_import_id, "menu_import_id")
    sets = derive_option_sets(inp.restaurant.menu)
    created = inp.platform.create_option_sets(
        inp.meta, restaurant_id=restaurant_id, menu_import_id=menu_import_id, option_sets=sets
    )
    return {"option_set_count": len(sets), "result_id": created.id}


def item_tags(inp: SubStepInput) -> dict[str, Any]:
    restaurant_id = require(inp.context.restaurant_id, "restaurant_id")
    menu_import_id = require(inp.context.menu_import_id, "menu_import_id")
    tags = derive_item_tags(inp.restaurant.menu)
    added = inp.platform.add_item_tags(
        inp.meta, restaurant_id=restaurant_id, menu_import_id=menu_import_id, item_tags=tags
    )
    return {"tag_count": len(tags), "result_id": added.id}
