"""Each principal's IAM policies, from the template after the SAM transform (tools/sam_transform).

A principal is a function (AWS::Lambda::Function, its `Role`) or a state machine
(AWS::StepFunctions::StateMachine, its `RoleArn`) that the stack creates with the resolver's
parameters (a resource whose Condition is false is none), named by its logical id, which is how
the local runtime names it (local.calls). Its policies are the role's inline `Policies` and any
AWS::IAM::Policy / ManagedPolicy attached to the role, intrinsics resolved to local names
(local.intrinsics); managed policy ARNs are listed, not expanded (their documents live in IAM).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from local.intrinsics import Resolver

PRINCIPAL_ROLE_PROPERTY = {
    "AWS::Lambda::Function": "Role",
    "AWS::StepFunctions::StateMachine": "RoleArn",
}
ATTACHED_POLICY_TYPES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")


@dataclass(frozen=True)
class PolicyDocument:
    name: str
    document: dict[str, Any]


@dataclass(frozen=True)
class PrincipalRole:
    principal: str
    role: str
    policies: tuple[PolicyDocument, ...]
    managed_policy_arns: tuple[str, ...]


def principal_roles(transformed: dict[str, Any], resolver: Resolver) -> dict[str, PrincipalRole]:
    resources: dict[str, Any] = transformed["Resources"]
    roles = {}
    for logical_id, resource in resources.items():
        role_property = PRINCIPAL_ROLE_PROPERTY.get(resource["Type"])
        if role_property is None:
            continue
        if "Condition" in resource and not resolver.condition(resource["Condition"]):
            continue  # not created with these parameters (e.g. the sandbox with http)
        role_id = _role_id(logical_id, resource["Properties"].get(role_property))
        role = resources[role_id]["Properties"]
        policies = [
            PolicyDocument(p["PolicyName"], resolver.resolve(p["PolicyDocument"]))
            for p in role.get("Policies", [])
        ]
        for attached_id, attached in resources.items():
            if attached["Type"] in ATTACHED_POLICY_TYPES and {"Ref": role_id} in attached[
                "Properties"
            ].get("Roles", []):
                document = resolver.resolve(attached["Properties"]["PolicyDocument"])
                policies.append(PolicyDocument(attached_id, document))
        managed = resolver.resolve(role.get("ManagedPolicyArns", []))
        roles[logical_id] = PrincipalRole(logical_id, role_id, tuple(policies), tuple(managed))
    return roles


def _role_id(principal: str, value: Any) -> str:
    """The logical id of the role the template gives `principal` (a role of this stack)."""
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        role_id, attribute = value["Fn::GetAtt"]
        if attribute == "Arn":
            return str(role_id)
    raise ValueError(
        f"{principal}: its role is {value!r}, not a role of this template (!GetAtt Role.Arn):"
        " its policies cannot be read from the template"
    )
