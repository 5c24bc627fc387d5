"""The checker can fail: a call outside a policy is reported, a grant no call uses is reported,
and IAM's matching rules (wildcards, case, literal characters, explicit Deny) hold."""

from __future__ import annotations

from typing import Any

import pytest

from local.calls import Call
from local.roles import PolicyDocument, PrincipalRole
from tests.privilege import checker

TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/JobsTable"


def role(*statements: dict[str, Any], principal: str = "Fn") -> PrincipalRole:
    document = {"Version": "2012-10-17", "Statement": list(statements)}
    return PrincipalRole(principal, f"{principal}Role", (PolicyDocument("p", document),), ())


def allow(action: str | list[str], resource: str | list[str]) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def test_a_call_outside_the_policy_is_reported() -> None:
    # given a role that may read items, when its function scans and reads
    roles = {"Fn": role(allow("dynamodb:GetItem", TABLE))}
    scan = Call("Fn", "dynamodb:Scan", TABLE)
    read = Call("Fn", "dynamodb:GetItem", TABLE)
    # then the scan is reported, the read is not
    assert checker.denied({scan, read}, roles) == [scan]


def test_a_call_on_another_resource_or_by_an_unknown_principal_is_reported() -> None:
    roles = {"Fn": role(allow("dynamodb:GetItem", TABLE))}
    elsewhere = Call("Fn", "dynamodb:GetItem", f"{TABLE}/index/gsi1")
    stranger = Call("Other", "dynamodb:GetItem", TABLE)
    assert checker.denied({elsewhere, stranger}, roles) == [elsewhere, stranger]


def test_a_grant_no_call_uses_is_reported() -> None:
    # given a role granting GetItem and DeleteItem, when only GetItem was called
    roles = {"Fn": role(allow(["dynamodb:GetItem", "dynamodb:DeleteItem"], TABLE))}
    calls = {Call("Fn", "dynamodb:GetItem", TABLE), Call("Other", "dynamodb:DeleteItem", TABLE)}
    # then DeleteItem is reported unused (another principal's call does not count)
    (unused,) = checker.unused(calls, roles)
    assert (unused.principal, unused.action) == ("Fn", "dynamodb:DeleteItem")


def test_a_grant_on_a_resource_no_call_names_is_reported() -> None:
    roles = {
        "Fn": role(allow("dynamodb:Query", TABLE), allow("dynamodb:Query", f"{TABLE}/index/*"))
    }
    (unused,) = checker.unused({Call("Fn", "dynamodb:Query", TABLE)}, roles)
    assert unused.resources == (f"{TABLE}/index/*",)


@pytest.mark.parametrize(
    ("pattern", "action", "resource", "allowed"),
    [
        ("s3:*", "s3:PutObject", "arn:aws:s3:::bucket/key", True),
        ("s3:Get*", "s3:PutObject", "arn:aws:s3:::bucket/key", False),
        ("S3:putobject", "s3:PutObject", "arn:aws:s3:::bucket/key", True),  # actions ignore case
        ("s3:PutObjec?", "s3:PutObject", "arn:aws:s3:::bucket/key", True),
        ("s3:PutObject", "s3:PutObject", "arn:aws:s3:::Bucket/key", False),  # ARNs do not
        ("s3:PutObject", "s3:PutObject", "arn:aws:s3:::my-bucketXa/key", False),
    ],
)
def test_iam_matching_rules(pattern: str, action: str, resource: str, allowed: bool) -> None:
    resources = ["arn:aws:s3:::bucket/*", "arn:aws:s3:::my-bucket.a/*"]
    assert checker.allows(role(allow(pattern, resources)), action, resource) is allowed


def test_an_explicit_deny_wins() -> None:
    deny = {"Effect": "Deny", "Action": "dynamodb:*", "Resource": TABLE}
    assert not checker.allows(role(allow("dynamodb:*", "*"), deny), "dynamodb:GetItem", TABLE)


def test_a_statement_the_evaluator_cannot_judge_is_refused() -> None:
    conditional = allow("dynamodb:GetItem", TABLE) | {"Condition": {"Bool": {"x": "true"}}}
    with pytest.raises(ValueError, match="cannot judge"):
        checker.allows(role(conditional), "dynamodb:GetItem", TABLE)
