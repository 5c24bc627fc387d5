"""`make openapi`: write the API's OpenAPI document, generated from the routes, to
docs/openapi.json (checked in; a test fails when it is stale). `--check` only compares."""

from __future__ import annotations

import sys

from handlers.api import openapi_document
from local.template import PROJECT_ROOT

OPENAPI_PATH = PROJECT_ROOT / "docs" / "openapi.json"


def main(argv: list[str]) -> int:
    document = openapi_document() + "\n"
    current = OPENAPI_PATH.read_text(encoding="utf-8") if OPENAPI_PATH.exists() else ""
    if "--check" in argv:
        if current != document:
            print(f"{OPENAPI_PATH.relative_to(PROJECT_ROOT)} is stale: run `make openapi`")
            return 1
        return 0
    OPENAPI_PATH.parent.mkdir(parents=True, exist_ok=True)
    OPENAPI_PATH.write_text(document, encoding="utf-8")
    print(f"wrote {OPENAPI_PATH.relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
