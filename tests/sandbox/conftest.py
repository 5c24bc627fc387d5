"""The platform sandbox's suite: one local runtime whose phases reach the deployed stand-in's
code (PlatformSandboxFunction in worker processes of its own, behind a front door that refuses
unsigned requests as its IAM function URL would), its state in PlatformSandboxTable."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local.runtime import LocalRuntime
from tests.integration.conftest import Harness, harness_for_a_test
from tests.resilience.conftest import POLL_INTERVAL_S


@pytest.fixture(scope="package")
def runtime() -> Iterator[LocalRuntime]:
    with LocalRuntime(
        platform="sandbox", table_engine="dynamodb-local", poll_interval_s=POLL_INTERVAL_S
    ) as started:
        started.simulator.reset()
        yield started


@pytest.fixture
def harness(runtime: LocalRuntime) -> Iterator[Harness]:
    yield from harness_for_a_test(runtime, runtime.simulator, runtime.simulator.clear_faults)
