"""The simulator's behaviour over its DynamoDB state (the deployed sandbox's), on both engines.

Every behavioural specification of tests/unit/test_simulator.py that takes a `sim` runs here
again with `sim` built over `state.platform_sandbox.DynamoDBPlatformState` on a fresh table
made from template.yaml's PlatformSandboxTable: idempotency and the ledger, conflicts, faults,
latency, references and concurrent calls with one key. The rules are one implementation; these
prove the DynamoDB state keeps them.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

import pytest

from clients.simulator import FaultSpec, PlatformSimulator
from local.template import Template
from state.platform_sandbox import DynamoDBPlatformState
from tests.repository.support import Engine
from tests.unit import test_simulator
from tests.unit.fakes import make_meta

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

SANDBOX_TABLE = "PlatformSandboxTable"

# The specifications that take a simulator, re-collected in this module (their `sim` is ours).
SPECIFICATIONS = {
    name: test
    for name, test in inspect.getmembers(test_simulator, inspect.isfunction)
    if name.startswith("test_") and "sim" in inspect.signature(test).parameters
}
globals().update(SPECIFICATIONS)


@pytest.fixture(scope="session")
def table_definition() -> dict[str, Any]:
    return Template.load().table_definitions()[SANDBOX_TABLE]


# moto's in-process backend is not thread-safe (concurrent ADDs to one item lose updates; the
# local runtime puts one lock around moto's requests for that reason): the concurrent
# specification runs on DynamoDB Local only, the engine that behaves like DynamoDB there (its
# moto case is never collected: tests/repository/conftest.py).
NOT_ON_MOTO = frozenset({"test_concurrent_calls_with_one_key_take_effect_once"})


@pytest.fixture
def sim(engine: Engine, table: Table) -> PlatformSimulator:
    return PlatformSimulator(DynamoDBPlatformState(table))


def test_the_specifications_are_collected_here() -> None:
    # the import above found the simulator's behavioural tests (a rename would lose them)
    assert len(SPECIFICATIONS) >= 20


def test_state_is_shared_by_every_simulator_over_the_table(table: Table) -> None:
    # Given two simulators over one table (two sandbox processes)
    first = PlatformSimulator(DynamoDBPlatformState(table))
    second = PlatformSimulator(DynamoDBPlatformState(table))
    first.add_fault(FaultSpec(sub_step="createOnboardingUser", mode="fail", times=1))

    # When the second takes a call, then the first repeats it under the same key
    meta = make_meta("job-1", "createOnboardingUser")
    with pytest.raises(Exception, match="simulated fail"):
        second.create_onboarding_user(meta, email="o@aroha.example", name="Cafe Aroha")
    made = second.create_onboarding_user(meta, email="o@aroha.example", name="Cafe Aroha")
    again = first.create_onboarding_user(meta, email="o@aroha.example", name="Cafe Aroha")

    # Then the fault was used up once, the effect taken once, and both see the same ledger
    assert again == made and first.faults() == []
    assert [(e.count, e.calls) for e in first.ledger()] == [(1, 3)]
    assert second.objects("onboarding_user") == first.objects("onboarding_user")
