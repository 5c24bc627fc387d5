"""Read template.yaml (CloudFormation/SAM YAML with short tags) into plain Python data.

Short tags become their long form: `!GetAtt A.Arn` -> {"Fn::GetAtt": ["A", "Arn"]},
`!Ref X` -> {"Ref": "X"}, `!Sub s` -> {"Fn::Sub": s}, and so on. Used by the ASL validator
and the contract tests; it resolves nothing against AWS.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = REPO_ROOT / "template.yaml"

FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that understands CloudFormation's short intrinsic-function tags."""


def _construct_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "Condition":
        return {"Condition": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        resource, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [resource, attribute]}
    return {f"Fn::{tag_suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        data = yaml.load(handle, Loader=_CfnLoader)
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not a YAML mapping")
    return data


def resources_of_type(template: dict[str, Any], *types: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in template.get("Resources", {}).items()
        if resource.get("Type") in types
    }


def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return resources_of_type(template, *FUNCTION_TYPES)


def fake_value(template: dict[str, Any], value: Any, region: str, account: str) -> str:
    """A well-formed stand-in for a DefinitionSubstitutions value (no AWS lookups)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
        resource_type = template["Resources"][logical_id]["Type"]
        if attribute == "Arn" and resource_type in FUNCTION_TYPES:
            return f"arn:aws:lambda:{region}:{account}:function:{logical_id}"
        if attribute == "Arn" and resource_type == "AWS::SQS::Queue":
            return f"arn:aws:sqs:{region}:{account}:{logical_id}"
        if attribute == "Arn" and resource_type == "AWS::DynamoDB::Table":
            return f"arn:aws:dynamodb:{region}:{account}:table/{logical_id}"
        if attribute == "Name":
            return logical_id
    if isinstance(value, dict) and "Ref" in value:
        logical_id = value["Ref"]
        resource_type = template["Resources"].get(logical_id, {}).get("Type")
        if resource_type in ("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine"):
            return f"arn:aws:states:{region}:{account}:stateMachine:{logical_id}"
        if resource_type == "AWS::SNS::Topic":
            return f"arn:aws:sns:{region}:{account}:{logical_id}"
        return str(logical_id)
    raise ValueError(f"no fake value for DefinitionSubstitutions value {value!r}")
