"""`make catalogue`: write the page's sub-step catalogue, generated from the declarations in
src/domain/substeps, to frontend/js/catalogue.gen.js (checked in; a test fails on drift)."""

from __future__ import annotations

import json
import sys

from domain.catalogue import catalogue_document
from local.generated import write_or_check
from local.template import PROJECT_ROOT

CATALOGUE_JS = PROJECT_ROOT / "frontend" / "js" / "catalogue.gen.js"


def render() -> str:
    # One entry a line: the file reads (and diffs) as the table it is.
    sections = ",\n".join(
        f"  {json.dumps(key)}: [\n" + ",\n".join(f"    {json.dumps(row)}" for row in rows) + "\n  ]"
        for key, rows in catalogue_document().items()
    )
    return (
        "// Generated from the sub-step declarations in src/domain/substeps by `make catalogue`:"
        " do not edit.\n"
        f"export const CATALOGUE = {{\n{sections}\n}};\n"
    )


def main(argv: list[str]) -> int:
    return write_or_check(CATALOGUE_JS, render(), argv, "catalogue")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
