"""Least privilege, proven by the calls the functions made: every AWS call each local function
(and the state machine) made in this session is allowed by its own role in the transformed
template, and no role grants an action none of its calls used.

How the calls are recorded (local.calls): each function's worker processes sign with an access
key of their own, and the moto server notes, for every request, the principal of that key, the
IAM action and the ARN the request names (local.request_calls); the state machine's Lambda
tasks are noted where the runtime answers them. The policies are the template's after the SAM
transform (tools/sam_transform.py, samtranslator from .tools-venv: policy templates expanded,
SAM's own statements included), intrinsics resolved to the local runtime's names
(local.intrinsics). They are evaluated with moto's IAM policy evaluator (tests/privilege/
checker.py says why, and which gaps of it are closed there). Why moto's IAM enforcement itself
is not used: in server mode it authorises most services' requests against resource "*", so a
policy scoped to a table or a bucket would deny every call.

These tests run last (tests/privilege/conftest.py): the calls come from the suites before them.
"""

from __future__ import annotations

from typing import Any

from local.calls import Call
from local.intrinsics import Resolver, local_name
from local.roles import PrincipalRole
from local.runtime import BUCKET_ID, STATE_MACHINE_ID, TABLE_ID, LocalRuntime
from local.template import FAKE_ACCOUNT
from tests.privilege import checker
from tests.privilege.declared import (
    CALLED_ONLY_ON_A_RACE,
    MANAGED_POLICIES,
    NOT_CALLED_LOCALLY,
    NOT_INVOKED,
)


def _lines(items: list[Any]) -> str:
    return "\n".join(f"  {item}" for item in items)


def test_every_recorded_call_is_allowed_by_its_principals_role(
    recorded: frozenset[Call], roles: dict[str, PrincipalRole]
) -> None:
    # given the calls this session's local functions made, when each is evaluated against its
    # principal's policies
    refused = checker.denied(recorded, roles)
    # then none is refused (deployed, it would fail with AccessDenied)
    assert not refused, "calls their principal's role does not allow:\n" + _lines(refused)


def test_no_role_grants_an_action_its_principal_never_called(
    complete_record: frozenset[Call], roles: dict[str, PrincipalRole]
) -> None:
    # given every call the feeding suites made, when each grant looks for a call it allows
    unused = {
        grant
        for grant in checker.unused(complete_record, roles)
        if (grant.principal, grant.action) not in NOT_CALLED_LOCALLY
        and (grant.principal, grant.action) not in CALLED_ONLY_ON_A_RACE
        and grant.principal not in NOT_INVOKED
    }
    # then each grant is used, or declared needed deployed (tests/privilege/declared.py)
    assert not unused, "granted, never called, not declared:\n" + _lines(sorted(unused))


def test_every_principal_made_calls_or_is_declared_not_invoked(
    complete_record: frozenset[Call], roles: dict[str, PrincipalRole]
) -> None:
    callers = {call.principal for call in complete_record}
    recorded_none = sorted(set(roles) - callers - set(NOT_INVOKED))
    assert not recorded_none, f"recorded-none (no call in the feeding suites): {recorded_none}"
    assert not set(NOT_INVOKED) & callers, "declared not invoked, yet made calls"


def test_the_declared_explanations_are_not_stale(
    complete_record: frozenset[Call], roles: dict[str, PrincipalRole]
) -> None:
    granted = {(g.principal, g.action) for r in roles.values() for g in checker.grants(r)}
    unused = {(g.principal, g.action) for g in checker.unused(complete_record, roles)}
    declared = set(NOT_CALLED_LOCALLY) | set(CALLED_ONLY_ON_A_RACE)
    assert not declared - granted, "explains a grant the template no longer has:\n" + _lines(
        sorted(declared - granted)
    )
    used = set(NOT_CALLED_LOCALLY) - unused
    assert not used, "explains as never called a grant a recorded call uses:\n" + _lines(
        sorted(used)
    )
    assert not set(NOT_CALLED_LOCALLY) & set(CALLED_ONLY_ON_A_RACE), "declared twice"
    assert set(NOT_INVOKED) <= set(roles)


def test_managed_policies_are_only_the_declared_ones(roles: dict[str, PrincipalRole]) -> None:
    # their documents are not in the template: each is named, and explained, in one place
    attached = {arn for role in roles.values() for arn in role.managed_policy_arns}
    assert attached <= set(MANAGED_POLICIES), sorted(attached - set(MANAGED_POLICIES))


def test_the_local_names_are_the_runtimes(resolver: Resolver, transformed: dict[str, Any]) -> None:
    # given the environment the template gives a function, when resolved as the policies are
    variables = transformed["Resources"]["ApiFunction"]["Properties"]["Environment"]["Variables"]
    local = {
        "TABLE_NAME": TABLE_ID,
        "BUCKET_NAME": local_name(BUCKET_ID, "AWS::S3::Bucket"),
        "STATE_MACHINE_ARN": (
            f"arn:aws:states:{resolver.region}:{FAKE_ACCOUNT}:stateMachine:{STATE_MACHINE_ID}"
        ),
    }
    # then it names what the local runtime creates and calls
    assert {name: resolver.resolve(variables[name]) for name in local} == local
    assert resolver.region == LocalRuntime.region
