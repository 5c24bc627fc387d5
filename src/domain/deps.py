"""What the Step 6 use cases need from the outside world, injected by the handlers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

# For the annotations only: a handler's import path loads just the adapters it builds.
if TYPE_CHECKING:
    from clients.executions import ExecutionRunner
    from clients.platform import PumpdPlatform
    from clients.secrets import SecretStore
    from clients.storage import ObjectStore
    from domain.runner import RetryPolicy
    from state.repository import JobRepository


@dataclass(frozen=True)
class Step6Deps:
    jobs: JobRepository
    platform: PumpdPlatform
    store: ObjectStore
    secrets: SecretStore
    retry: RetryPolicy


@dataclass(frozen=True)
class ApiDeps:
    jobs: JobRepository
    secrets: SecretStore
    executions: ExecutionRunner
