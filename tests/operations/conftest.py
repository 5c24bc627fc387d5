"""Bulk operations on the local runtime: the API handler in this process, the BulkOperation
state machine and its item function in worker processes (as deployed)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tests.api.conftest import ORG, Api, api

__all__ = ["ORG", "Api", "api", "poll", "wait_operation"]


def poll(check: Callable[[], Any], timeout_s: float = 120, what: str = "condition") -> Any:
    """`check()` until it returns something truthy, or TimeoutError at the deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reached in {timeout_s}s")
        time.sleep(0.1)


def wait_operation(api: Api, operation_id: str, timeout_s: float = 180) -> dict[str, Any]:
    """Poll GET /operations/{id} until the operation has ended."""

    def ended() -> dict[str, Any] | None:
        reply = api.client.get(f"/operations/{operation_id}")
        assert reply.status == 200, reply
        body: dict[str, Any] = reply.body
        return body if body["status"] in ("completed", "cancelled", "failed") else None

    result: dict[str, Any] = poll(ended, timeout_s, f"operation {operation_id} ended")
    return result
