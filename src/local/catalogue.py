"""`make catalogue`: write the page's sub-step catalogue, generated from the declarations in
src/domain/substeps, to frontend/js/catalogue.gen.js (checked in; a test fails on drift)."""

from __future__ import annotations

import json
import sys

from domain.catalogue import catalogue_document
from local.template import PROJECT_ROOT

CATALOGUE_JS = PROJECT_ROOT / "frontend" / "js" / "catalogue.gen.js"


def render() -> str:
    document = json.dumps(catalogue_document(), indent=2)
    return (
        "// Generated from the sub-step declarations in src/domain/substeps by `make catalogue`:"
        " do not edit.\n"
        f"export const CATALOGUE = {document};\n"
    )


def main(argv: list[str]) -> int:
    rendered = render()
    current = CATALOGUE_JS.read_text(encoding="utf-8") if CATALOGUE_JS.exists() else ""
    if "--check" in argv:
        if current != rendered:
            print(f"{CATALOGUE_JS.relative_to(PROJECT_ROOT)} is stale: run `make catalogue`")
            return 1
        return 0
    CATALOGUE_JS.write_text(rendered, encoding="utf-8")
    print(f"wrote {CATALOGUE_JS.relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
