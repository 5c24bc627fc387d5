"""The state machine definitions are valid ASL once substituted, and agree with the template."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from tools.cfn_template import FUNCTION_TYPES
from tools.validate_asl import (
    PLACEHOLDER,
    StateMachineDefinition,
    resolved_definition,
    state_machines,
    substitute,
    validate_definition,
)

from tests.contract.conftest import ASL_VALIDATOR, require_tool


@pytest.fixture(scope="module")
def machines(template: dict[str, Any]) -> list[StateMachineDefinition]:
    found = state_machines(template)
    assert found, "template.yaml has no state machine with a local DefinitionUri"
    return found


@pytest.fixture(scope="module")
def step6(machines: list[StateMachineDefinition]) -> StateMachineDefinition:
    by_id = {m.logical_id: m for m in machines}
    assert "Step6StateMachine" in by_id
    return by_id["Step6StateMachine"]


def _validate(definition: dict[str, Any]) -> tuple[bool, str]:
    require_tool(ASL_VALIDATOR)
    result = validate_definition(definition)
    return result.ok, result.output


def test_definitions_are_valid_after_substitution(
    template: dict[str, Any], machines: list[StateMachineDefinition]
) -> None:
    for machine in machines:
        definition = resolved_definition(machine, template)
        assert not PLACEHOLDER.search(json.dumps(definition)), "unsubstituted placeholder left"
        ok, output = _validate(definition)
        assert ok, f"{machine.logical_id}: asl-validator rejected {machine.path.name}:\n{output}"


def test_substituted_lambda_arns_are_well_formed(
    template: dict[str, Any], step6: StateMachineDefinition
) -> None:
    definition = resolved_definition(step6, template)
    names = [
        state["Parameters"]["FunctionName"]
        for state in definition["States"].values()
        if state.get("Resource") == "arn:aws:states:::lambda:invoke"
    ]
    assert names
    for name in names:
        assert name.startswith("arn:aws:lambda:us-east-1:123456789012:function:"), name


def test_validator_rejects_next_to_a_missing_state(
    template: dict[str, Any], step6: StateMachineDefinition
) -> None:
    broken = copy.deepcopy(resolved_definition(step6, template))
    state_with_next = next(name for name, s in broken["States"].items() if "Next" in s)
    broken["States"][state_with_next]["Next"] = "NoSuchState"
    ok, output = _validate(broken)
    assert not ok, "asl-validator accepted a Next to a missing state"
    assert "NoSuchState" in output


def test_validator_rejects_a_missing_start_state(
    template: dict[str, Any], step6: StateMachineDefinition
) -> None:
    broken = copy.deepcopy(resolved_definition(step6, template))
    broken["StartAt"] = "Nowhere"
    ok, _ = _validate(broken)
    assert not ok


def test_placeholders_and_substitutions_match(machines: list[StateMachineDefinition]) -> None:
    for machine in machines:
        used = machine.placeholders()
        declared = set(machine.substitutions)
        assert used - declared == set(), (
            f"{machine.path.name} uses placeholders missing from "
            f"{machine.logical_id}.DefinitionSubstitutions: {sorted(used - declared)}"
        )
        assert declared - used == set(), (
            f"{machine.logical_id}.DefinitionSubstitutions declares keys "
            f"{machine.path.name} never uses: {sorted(declared - used)}"
        )


def test_substitutions_point_at_functions_the_machine_may_invoke(
    template: dict[str, Any], machines: list[StateMachineDefinition]
) -> None:
    """`XArn: !GetAtt X.Arn` for a function X, and a LambdaInvokePolicy for each X."""
    resources = template["Resources"]
    for machine in machines:
        policies = resources[machine.logical_id]["Properties"].get("Policies", [])
        invokable = {
            p["LambdaInvokePolicy"]["FunctionName"]["Ref"]
            for p in policies
            if isinstance(p, dict) and "LambdaInvokePolicy" in p
        }
        for key, value in machine.substitutions.items():
            assert isinstance(value, dict), f"{key}: expected !GetAtt <Function>.Arn"
            if "Ref" in value and resources[value["Ref"]]["Type"] == "AWS::S3::Bucket":
                # a bucket the machine reads (a Distributed Map's ItemReader): `<Bucket>Name`
                assert key == f"{value['Ref']}Name", f"{key} should be named {value['Ref']}Name"
                continue
            assert "Fn::GetAtt" in value, f"{key}: expected !GetAtt <Function>.Arn"
            logical_id, attribute = value["Fn::GetAtt"]
            assert attribute == "Arn"
            assert key == f"{logical_id}Arn", f"{key} should be named {logical_id}Arn"
            assert resources[logical_id]["Type"] in FUNCTION_TYPES
            assert logical_id in invokable, (
                f"{machine.logical_id} has no LambdaInvokePolicy for {logical_id}"
            )


def test_substitute_refuses_unknown_placeholders() -> None:
    with pytest.raises(KeyError, match="Nope"):
        substitute('{"FunctionName": "${Nope}"}', {"Other": "x"})


def test_a_stuck_run_times_out_and_a_slow_healthy_one_does_not(
    template: dict[str, Any], step6: StateMachineDefinition
) -> None:
    # The execution's TimeoutSeconds (what Step6ExecutionsTimedOutAlarm watches) must exceed
    # what a run that is not stuck can take: every task to its function's timeout once, plus
    # the waits of its retries (they retry Lambda service errors, which end before the
    # function runs), with room to spare; and stay within a few times that, so a run that
    # hangs is noticed, settled and resumable within the hour.
    definition = json.loads(step6.path.read_text(encoding="utf-8"))
    default = template["Globals"]["Function"]["Timeout"]
    worst = 0.0
    for state in definition["States"].values():
        if state["Type"] != "Task":
            continue
        function = state["Parameters"]["FunctionName"].strip("${}").removesuffix("Arn")
        worst += template["Resources"][function]["Properties"].get("Timeout", default)
        for retrier in state.get("Retry", []):
            interval, rate = retrier.get("IntervalSeconds", 1), retrier.get("BackoffRate", 2.0)
            worst += sum(interval * rate**n for n in range(retrier.get("MaxAttempts", 3)))
    timeout = definition["TimeoutSeconds"]
    assert 2 * worst <= timeout <= 4 * worst, (worst, timeout)
