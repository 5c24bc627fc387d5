"""What a sub-step's logic receives, and the shape of the registry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from clients.platform import CallMeta, PumpdPlatform
from clients.secrets import SecretStore
from clients.storage import ObjectStore
from phases.context import RunContext
from state.models import ExecutionConfig, Restaurant


@dataclass(frozen=True)
class SubStepInput:
    job_id: str
    restaurant: Restaurant
    config: ExecutionConfig
    context: RunContext
    meta: CallMeta
    platform: PumpdPlatform
    store: ObjectStore
    secrets: SecretStore


# A sub-step returns its output: small, JSON-serialisable, persisted with its completion.
SubStepLogic = Callable[[SubStepInput], dict[str, Any]]


class MissingContextError(RuntimeError):
    """A sub-step ran without an output it depends on (a planner bug, never expected)."""


def require(value: str | None, what: str) -> str:
    if value is None:
        raise MissingContextError(f"{what} is missing from the reconstructed context")
    return value
