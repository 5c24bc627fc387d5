"""Recorded calls against the principals' policies: what was denied, and what was never used.

The evaluator is moto's (`moto.iam.access_control.IAMPolicy`, the one behind its IAM
enforcement): moto is already a dependency, and its policy logic is maintained with it (explicit
Deny over Allow, NotAction, `*` wildcards in Action and Resource). Three gaps of its matcher are
closed here rather than worked around silently: it matches actions case-sensitively (IAM does
not: both sides are lower-cased), it treats a pattern as a regular expression (every character
but `*` and `?` is escaped, `?` becomes one character), and it cannot evaluate NotResource or
conditions in an identity policy (such a statement is refused with an error, so a new kind of
policy fails loudly here instead of being judged wrongly).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from moto.iam.access_control import IAMPolicy, PermissionResult

from local.calls import Call
from local.roles import PrincipalRole


@dataclass(frozen=True, order=True)
class Grant:
    """One action of one Allow statement of a principal's policies."""

    principal: str
    policy: str
    action: str
    resources: tuple[str, ...]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _wildcard(pattern: str) -> str:
    """An IAM wildcard pattern in the form moto's matcher expects (it then turns * into .*)."""
    return "".join("*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)


def _normalised(statement: dict[str, Any]) -> dict[str, Any]:
    unsupported = {"NotResource", "Condition", "Principal", "NotPrincipal"} & set(statement)
    if unsupported:
        raise ValueError(f"the evaluator cannot judge {sorted(unsupported)}: {statement}")
    result = {"Effect": statement["Effect"]}
    for key in ("Action", "NotAction"):
        if key in statement:
            result[key] = [_wildcard(a.lower()) for a in _as_list(statement[key])]
    result["Resource"] = [_wildcard(r) for r in _as_list(statement["Resource"])]
    return result


def _policy(statements: Iterable[dict[str, Any]]) -> IAMPolicy:
    document = {"Version": "2012-10-17", "Statement": [_normalised(s) for s in statements]}
    return IAMPolicy(json.dumps(document))


def _statements(role: PrincipalRole) -> list[tuple[str, dict[str, Any]]]:
    return [
        (policy.name, statement)
        for policy in role.policies
        for statement in _as_list(policy.document["Statement"])
    ]


def allows(role: PrincipalRole, action: str, resource: str) -> bool:
    """Whether the role's policies allow the call (an explicit Deny wins, as in IAM)."""
    policy = _policy(s for _, s in _statements(role))
    return policy.is_action_permitted(action.lower(), resource) == PermissionResult.PERMITTED


def denied(calls: Iterable[Call], roles: dict[str, PrincipalRole]) -> list[Call]:
    """The calls their principal's policies do not allow (or that no principal's role covers)."""
    return sorted(
        call
        for call in calls
        if call.principal not in roles
        or not allows(roles[call.principal], call.action, call.resource)
    )


def grants(role: PrincipalRole) -> list[Grant]:
    found = []
    for policy, statement in _statements(role):
        if statement["Effect"] != "Allow":
            continue
        resources = tuple(_as_list(statement["Resource"]))
        for action in _as_list(statement.get("Action", [])):
            found.append(Grant(role.principal, policy, action, resources))
    return found


def used(grant: Grant, calls: Iterable[Call]) -> bool:
    """Whether a recorded call of the principal falls under this grant (action and resource)."""
    policy = _policy(
        [{"Effect": "Allow", "Action": grant.action, "Resource": list(grant.resources)}]
    )
    return any(
        policy.is_action_permitted(call.action.lower(), call.resource) == PermissionResult.PERMITTED
        for call in calls
        if call.principal == grant.principal
    )


def unused(calls: Iterable[Call], roles: dict[str, PrincipalRole]) -> list[Grant]:
    by_principal: dict[str, list[Call]] = {}
    for call in calls:
        by_principal.setdefault(call.principal, []).append(call)
    return sorted(
        grant
        for role in roles.values()
        for grant in grants(role)
        if not used(grant, by_principal.get(role.principal, []))
    )
