"""A job whose Step 5 was submitted over the in-memory fakes: its first run, phase by phase."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clients.simulator import PlatformSimulator
from domain.deps import Step6Deps
from domain.onboarding import ExecutionConfigInput, submit_step5
from domain.phase_tasks import run_phase
from domain.runner import RetryPolicy
from local.samples import config_data
from tests.factories import make_job
from tests.unit.fake_repository import FakeJobRepository
from tests.unit.fakes import InMemoryObjectStore, InMemorySecretStore


class _Executions:
    """Starts nothing: the test runs the phases itself."""

    def execution_arn(self, name: str) -> str:
        return f"arn:aws:states:us-east-1:123456789012:execution:Step6:{name}"

    def start(self, name: str, payload: dict[str, Any]) -> str:
        return self.execution_arn(name)


@dataclass
class StartedRun:
    deps: Step6Deps
    jobs: FakeJobRepository
    platform: PlatformSimulator
    job_id: str
    arn: str

    def phase(self, phase: str) -> None:
        run_phase(self.deps, self.job_id, phase, self.arn)  # type: ignore[arg-type]


def start_step6(secrets: InMemorySecretStore | None = None) -> StartedRun:
    """A job whose Step 5 was submitted (everything on, a password given): its first run holds
    it, no phase has run yet, and a sub-step is attempted once."""
    jobs, platform = FakeJobRepository(), PlatformSimulator()
    secrets = InMemorySecretStore() if secrets is None else secrets
    job = make_job()
    jobs.put_job(job)
    config = ExecutionConfigInput.model_validate(config_data(job.restaurant.name))
    run = submit_step5(jobs, secrets, _Executions(), job, config)  # type: ignore[arg-type]
    deps = Step6Deps(
        jobs=jobs,  # type: ignore[arg-type]
        platform=platform,
        store=InMemoryObjectStore(),
        secrets=secrets,
        retry=RetryPolicy(max_attempts=1, base_delay_s=0),
    )
    return StartedRun(deps, jobs, platform, job.job_id, run.execution_arn)
