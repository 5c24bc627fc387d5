"""The phase task over the in-memory repository: what a phase records, and what each sub-step's
logic is given (only the context it declares)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from clients.simulator import FaultSpec, PlatformSimulator
from domain.catalogue import SUB_STEP_LOGIC, SUB_STEPS
from domain.deps import Step6Deps
from domain.errors import BlockingSubStepFailedError
from domain.onboarding import ExecutionConfigInput, submit_step5
from domain.phase_tasks import run_phase
from domain.runner import RetryPolicy
from domain.substeps.base import SubStepInput
from local.samples import config_data
from state.models import SubStepStatus
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
class Run:
    deps: Step6Deps
    jobs: FakeJobRepository
    platform: PlatformSimulator
    job_id: str
    arn: str

    def phase(self, phase: str) -> None:
        run_phase(self.deps, self.job_id, phase, self.arn)  # type: ignore[arg-type]


@pytest.fixture
def started() -> Run:
    """A job whose Step 5 was submitted (everything on): its first run holds it."""
    jobs, platform, secrets = FakeJobRepository(), PlatformSimulator(), InMemorySecretStore()
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
    return Run(deps, jobs, platform, job.job_id, run.execution_arn)


def test_every_failure_of_a_failed_phase_has_its_event(started: Run) -> None:
    # given phase 1 done, and a platform that refuses the registration (blocking) and the
    # onboarding sync (non-blocking, it runs beside the registration in phase 2)
    started.phase("phase1")
    for sub_step in ("restaurantRegistration", "syncOnboardingUser"):
        started.platform.add_fault(FaultSpec(sub_step=sub_step, mode="fail"))

    # when phase 2 runs, it fails at the blocking sub-step
    with pytest.raises(BlockingSubStepFailedError):
        started.phase("phase2")

    # then both failures are in the audit trail, not only the blocking one
    failed = {
        e.detail["sub_step"]
        for e in started.jobs.list_events(started.job_id)
        if e.type == "sub_step_failed"
    }
    assert failed == {"restaurantRegistration", "syncOnboardingUser"}


def test_a_sub_step_is_given_only_the_context_it_declares(
    started: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given phase 1 done (the account, the code bundle and the onboarding user are outputs)
    started.phase("phase1")
    seen: dict[str, dict[str, Any]] = {}

    def spying(name: str) -> Any:
        logic = SUB_STEP_LOGIC[name]

        def run(inp: SubStepInput) -> dict[str, Any]:
            seen[name] = inp.context.as_dict()
            return logic(inp)

        return run

    for name in ("restaurantRegistration", "servicesConfig", "websiteConfig"):
        monkeypatch.setitem(SUB_STEP_LOGIC, name, spying(name))

    # when phase 2 runs
    started.phase("phase2")

    # then each sub-step saw exactly the context names it declares, nothing more
    for name, context in seen.items():
        spec = SUB_STEPS[name]
        assert set(context) == set(spec.reads_context), name
    assert set(seen) == {"restaurantRegistration", "servicesConfig", "websiteConfig"}
    job = started.jobs.get_job(started.job_id)
    assert job.step6_progress.sub_step("phase2", "servicesConfig").status == (
        SubStepStatus.COMPLETED
    )
