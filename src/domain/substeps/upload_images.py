"""Phase 1: the menu's item images uploaded to the platform."""

from __future__ import annotations

import json
from typing import Any

from domain.menu_format import image_urls
from domain.substeps.base import (
    Entry,
    InvalidInputError,
    Needs,
    Output,
    SubStepInput,
    generated_prefix,
    sub_step,
)

# Outputs stay small; a bigger image map lives only in the object store.
MAX_INLINE_IMAGE_IDS_BYTES = 1_500


@sub_step(
    Entry("phase1", 4, "Menu image upload", blocking=False, rerunnable=True),
    Needs(runs_if=("menu.selectedMenuId", "menu.uploadImages")),
    Output("image_ids", "count", "image_ids_key", "upload_id"),
)
def upload_images(inp: SubStepInput) -> dict[str, Any]:
    """Upload every item image (de-duplicated, menu order) in one platform call."""
    menu_id = inp.config.menu.selectedMenuId
    if menu_id is None:  # runs_if guarantees it; a planner bug otherwise
        raise InvalidInputError("menu.selectedMenuId is not set")
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
