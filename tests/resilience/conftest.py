"""Resilience fixtures: one local runtime for the whole package, the integration Harness on it.

Starting a runtime (moto, the template's resources, the state machine) takes seconds, and
jobs are independent by id, so the package shares one. Each test gets a clean simulator and
the runtime's defaults back (event delivery on, no Lambda timeouts), and waits for any handler
still running past its timeout before the next test starts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from clients.simulator import shared_simulator
from local.runtime import LocalRuntime
from tests.integration.conftest import Harness, harness_for_a_test
from tests.resilience.support import Gate

# The watcher describes every running execution each poll: 50 ms keeps that cheap when the
# crash-point matrix runs a dozen executions at once.
POLL_INTERVAL_S = 0.05


@pytest.fixture(scope="package")
def runtime() -> Iterator[LocalRuntime]:
    simulator = shared_simulator()
    simulator.reset()
    with LocalRuntime(poll_interval_s=POLL_INTERVAL_S) as started:
        yield started
    simulator.reset()


@pytest.fixture
def harness(runtime: LocalRuntime) -> Iterator[Harness]:
    simulator = shared_simulator()
    yield from harness_for_a_test(runtime, simulator, simulator.reset)


@pytest.fixture
def gate(harness: Harness) -> Iterator[Callable[[str, str], Gate]]:
    """`gate(operation, job_id)` holds that job's first call of a platform operation."""
    made: list[Gate] = []

    def make(operation: str, job_id: str) -> Gate:
        made.append(Gate(harness.simulator, operation, job_id))
        return made[-1]

    yield make
    for held in made:
        held.remove()
