"""codeGeneration (phase 1) and websiteConfig (phase 2)."""

from __future__ import annotations

from typing import Any

from domain.codegen import CODE_FILES, generate_code
from domain.substeps.base import InvalidInputError, SubStepInput, require


def generated_prefix(job_id: str) -> str:
    """Where a job's generated files live in the object store."""
    return f"generated/{job_id}"


def code_generation(inp: SubStepInput) -> dict[str, Any]:
    """Generate the files, store them, publish them as a bundle (one platform call)."""
    code = generate_code(inp.restaurant.branding, inp.restaurant.name)
    file_keys: dict[str, str] = {}
    for field, content in code.files().items():
        file_name, content_type = CODE_FILES[field]
        key = f"{generated_prefix(inp.job_id)}/{file_name}"
        # Same key, same bytes: a repeated put is harmless.
        inp.store.put_text(key, content, content_type)
        file_keys[field] = key
    bundle = inp.platform.publish_code_bundle(inp.meta, files=file_keys, checksum=code.checksum)
    return {"file_keys": file_keys, "checksum": code.checksum, "code_bundle_id": bundle.id}


def website_config(inp: SubStepInput) -> dict[str, Any]:
    """Read the generated files back from the store and configure the website with them."""
    restaurant_id = require(inp.context.restaurant_id, "restaurant_id")
    paths = require(inp.context.code_generation_file_paths, "code_generation_file_paths")
    code_bundle_id = require(inp.context.code_bundle_id, "code_bundle_id")
    missing = [field for field in CODE_FILES if field not in paths]
    if missing:
        raise InvalidInputError(f"codeGeneration output lacks the file keys {missing}")
    website = inp.platform.configure_website(
        inp.meta,
        restaurant_id=restaurant_id,
        code_bundle_id=code_bundle_id,
        head_html=inp.store.get_text(paths["head_html"]),
        body_html=inp.store.get_text(paths["body_html"]),
        css=inp.store.get_text(paths["css"]),
    )
    return {"website_id": website.id}
