"""`make openapi`: write the API's OpenAPI document, generated from the routes, to
docs/openapi.json (checked in; a test fails when it is stale). `--check` only compares."""

from __future__ import annotations

import sys

from handlers.api import openapi_document
from local.generated import write_or_check
from local.template import PROJECT_ROOT

OPENAPI_PATH = PROJECT_ROOT / "docs" / "openapi.json"


def main(argv: list[str]) -> int:
    return write_or_check(OPENAPI_PATH, openapi_document() + "\n", argv, "openapi")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
