"""The phase task over the in-memory repository: what a phase records, and what each sub-step's
logic is given (only the context it declares)."""

from __future__ import annotations

from typing import Any

import pytest

from clients.simulator import FaultSpec
from domain.catalogue import SUB_STEP_LOGIC, SUB_STEPS
from domain.errors import BlockingSubStepFailedError
from domain.substeps.base import SubStepInput
from state.models import SubStepStatus
from tests.unit.step6_runs import StartedRun, start_step6


@pytest.fixture
def started() -> StartedRun:
    """A job whose Step 5 was submitted (everything on): its first run holds it."""
    return start_step6()


def test_every_failure_of_a_failed_phase_has_its_event(started: StartedRun) -> None:
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
    started: StartedRun, monkeypatch: pytest.MonkeyPatch
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
