"""Phase 1: the restaurant's website code, generated from its branding and published."""

from __future__ import annotations

from typing import Any

from domain.codegen import CODE_FILES, generate_code
from domain.substeps.base import Entry, Output, SubStepInput, generated_prefix, sub_step


@sub_step(
    Entry("phase1", 2, "Website code generation", blocking=False, rerunnable=True),
    output=Output(
        "file_keys",
        "checksum",
        "code_bundle_id",
        provides={"code_generation_file_paths": "file_keys", "code_bundle_id": "code_bundle_id"},
    ),
)
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
