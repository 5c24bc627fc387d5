"""Integration fixtures: the real ASL and handlers on the local runtime (moto)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from clients.simulator import FaultSpec, PlatformSimulator
from domain.onboarding import ExecutionConfigInput, NewBatch, create_batch, submit_step5
from domain.runs import resume_job
from handlers.wiring import api_deps
from local.runtime import LocalRuntime
from local.samples import RESTAURANT_NAMES, config_data, restaurant_data
from state.models import Job

ORG = "org-a"


@dataclass
class Harness:
    runtime: LocalRuntime
    simulator: PlatformSimulator

    @property
    def jobs(self) -> Any:
        return api_deps().jobs

    def create_batch(self, names: list[str] | None = None) -> list[Job]:
        names = names or RESTAURANT_NAMES[:1]
        request = NewBatch.model_validate(
            {"name": "Wellington November", "restaurants": [restaurant_data(n) for n in names]}
        )
        _, jobs = create_batch(self.jobs, ORG, request)
        return jobs

    def submit(self, job: Job, **config_overrides: Any) -> str:
        deps = api_deps()
        config = ExecutionConfigInput.model_validate(
            config_data(job.restaurant.name, **config_overrides)
        )
        started = submit_step5(deps.jobs, deps.secrets, deps.executions, job, config)
        return started.execution_arn

    def run_job(self, name: str = "Cafe Aroha", **config_overrides: Any) -> tuple[Job, str]:
        """Create a one-job batch, submit Step 5, wait for the run to settle."""
        (job,) = self.create_batch([name])
        arn = self.submit(job, **config_overrides)
        self.runtime.wait_for(arn)
        return self.jobs.get_job(job.job_id), arn

    def resume(self, job_id: str) -> tuple[Job, str]:
        deps = api_deps()
        started = resume_job(deps.jobs, deps.executions, deps.jobs.get_job(job_id))
        self.runtime.wait_for(started.execution_arn)
        return self.jobs.get_job(job_id), started.execution_arn

    def fault(self, sub_step: str, mode: str, times: int = 1, **extra: Any) -> None:
        self.simulator.add_fault(FaultSpec(sub_step=sub_step, mode=mode, times=times, **extra))

    def effect_counts(self, job_id: str) -> dict[str, int]:
        return {e.sub_step: e.count for e in self.simulator.ledger() if e.job_id == job_id}


@pytest.fixture(scope="package")
def runtime() -> Iterator[LocalRuntime]:
    """One runtime for the package (its functions' processes start once); jobs are
    independent by id."""
    with LocalRuntime() as started:
        yield started


def harness_for_a_test(
    runtime: LocalRuntime, simulator: PlatformSimulator, clean: Callable[[], None]
) -> Iterator[Harness]:
    """The body of a `harness` fixture: the simulator cleaned (`clean`) before and after the
    test, and the runtime's defaults back afterwards (event delivery on, no Lambda timeouts),
    once any handler still running past its timeout has ended."""
    clean()
    yield Harness(runtime, simulator)
    runtime.deliver_events = True
    runtime.lambdas.timeouts.clear()
    runtime.lambdas.wait_idle()
    clean()


@pytest.fixture
def harness(runtime: LocalRuntime) -> Iterator[Harness]:
    yield from harness_for_a_test(runtime, runtime.simulator, runtime.simulator.reset)
