"""What a sub-step's logic receives, and the shape of the registry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from clients.platform import CallMeta, PermanentPlatformError, PumpdPlatform
from clients.secrets import SecretStore
from clients.storage import ObjectStore
from domain.context import RunContext
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


class InvalidInputError(PermanentPlatformError):
    """The job's own data cannot be processed (e.g. an empty menu to import).

    A `PermanentPlatformError`, so that retrying is never attempted: the data must change.
    """


T = TypeVar("T")


def require(value: T | None, what: str) -> T:
    if value is None:
        raise MissingContextError(f"{what} is missing from the reconstructed context")
    return value
