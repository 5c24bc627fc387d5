"""Local behaves like Lambda: each function runs in processes of its own, sharing nothing in
memory with another function or with the runtime; state is shared only through the AWS APIs
and the platform's HTTP endpoint."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from local.workers import ProcessLambdas
from state.models import ErrorCode, StepStatus
from tests.integration import probes
from tests.integration.conftest import Harness

pytestmark = pytest.mark.integration

PROBE = "tests.integration.probes.remember"


@pytest.fixture
def lambdas(harness: Harness) -> Iterator[ProcessLambdas]:
    runtime_lambdas = harness.runtime.lambdas
    assert isinstance(runtime_lambdas, ProcessLambdas)
    undo = [runtime_lambdas.override(f, PROBE) for f in ("Phase1Function", "Phase2Function")]
    yield runtime_lambdas
    for step in undo:
        step()


def test_a_module_level_value_set_in_one_function_is_invisible_to_another(
    lambdas: ProcessLambdas,
) -> None:
    # given Phase1's function stores a value in a module-level dict
    stored, error = lambdas.invoke("Phase1Function", {"set": "only-phase1-knows"})
    assert error is None and stored["value"] == "only-phase1-knows"

    # when Phase2's function, running the very same module, looks for it
    seen, error = lambdas.invoke("Phase2Function", {})

    # then it is not there: another process, as another Lambda function is
    assert error is None and seen["value"] is None
    assert seen["pid"] != stored["pid"] != os.getpid()
    # and neither does this process (the runtime, the tests) see it
    assert probes.REMEMBERED == {}
    # while Phase1's warm environment still remembers it, as a warm Lambda does
    again, _ = lambdas.invoke("Phase1Function", {})
    assert again == stored


@pytest.fixture
def own_simulators(harness: Harness) -> Iterator[Harness]:
    """Each phase function with an in-memory simulator of its own (`PLATFORM_MODE=simulator`
    in the functions): what a stack deployed with that mode did."""
    runtime_lambdas = harness.runtime.lambdas
    assert isinstance(runtime_lambdas, ProcessLambdas)
    phases = [f"Phase{n}Function" for n in range(1, 5)]
    undo = [runtime_lambdas.override(f, env={"PLATFORM_MODE": "simulator"}) for f in phases]
    yield harness
    for step in undo:
        step()


def test_an_in_memory_platform_per_function_fails_as_it_did_deployed(
    own_simulators: Harness,
) -> None:
    # given every phase function holds its own in-memory platform (nothing shared)
    # when a job runs
    job, _ = own_simulators.run_job("Separate Memories")

    # then Phase 2 cannot find the account Phase 1 created in another process's memory: the
    # failure seen on AWS, now seen locally too
    assert job.status == StepStatus.ACTION_REQUIRED
    assert job.last_failure is not None
    assert job.last_failure.sub_step == "restaurantRegistration"
    assert "not found (404): no such account" in job.last_failure.error
    assert job.last_failure.error_code == ErrorCode.PLATFORM_REJECTED
    # and the runtime's own simulator saw none of it
    assert own_simulators.simulator.effects_for(job.job_id) == []
