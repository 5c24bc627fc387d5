"""A handler that shows what its process remembers: the isolation test's stand-in function."""

from __future__ import annotations

import os
from typing import Any

# Module-level state, as a handler's globals are: it lives as long as its process.
REMEMBERED: dict[str, Any] = {}


def remember(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Store `event["set"]` (if given); answer what this process remembers, and its pid."""
    if "set" in event:
        REMEMBERED["value"] = event["set"]
    return {"pid": os.getpid(), "value": REMEMBERED.get("value")}
