"""Reads template.yaml: the one source of truth for tables, the state machine and handlers."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]
FAKE_ACCOUNT = "123456789012"


class _CfnLoader(yaml.SafeLoader):
    """Keeps CloudFormation short-form tags (!Ref, !GetAtt, ...) as {"Fn::X": value}."""


def _construct_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")


def load_cfn_yaml(path: Path) -> dict[str, Any]:
    """A CloudFormation/SAM YAML file as plain data, short tags in their long form."""
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_CfnLoader)
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not a YAML mapping")
    return data


def function_arn(logical_id: str, region: str, account: str = FAKE_ACCOUNT) -> str:
    return f"arn:aws:lambda:{region}:{account}:function:{logical_id}"


def substitution_value(
    body: dict[str, Any], value: Any, region: str, account: str = FAKE_ACCOUNT
) -> str:
    """A DefinitionSubstitutions value resolved locally: well-formed ARNs, no AWS lookups."""
    if isinstance(value, str):
        return value
    resources = body["Resources"]
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
        resource_type = resources[logical_id]["Type"]
        if attribute == "Arn" and resource_type in FUNCTION_TYPES:
            return function_arn(logical_id, region, account)
        if attribute == "Arn" and resource_type == "AWS::SQS::Queue":
            return f"arn:aws:sqs:{region}:{account}:{logical_id}"
        if attribute == "Arn" and resource_type == "AWS::DynamoDB::Table":
            return f"arn:aws:dynamodb:{region}:{account}:table/{logical_id}"
        if attribute == "Name":
            return str(logical_id)
    if isinstance(value, dict) and "Ref" in value:
        logical_id = value["Ref"]
        resource_type = resources.get(logical_id, {}).get("Type")
        if resource_type in ("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine"):
            return f"arn:aws:states:{region}:{account}:stateMachine:{logical_id}"
        if resource_type == "AWS::S3::Bucket":
            return str(logical_id).lower()  # as local.intrinsics.local_name names it
        if resource_type == "AWS::SNS::Topic":
            return f"arn:aws:sns:{region}:{account}:{logical_id}"
        return str(logical_id)
    raise ValueError(f"cannot resolve DefinitionSubstitutions value {value!r} locally")


@dataclass(frozen=True)
class Template:
    path: Path
    body: dict[str, Any]

    @classmethod
    def load(cls, path: Path | None = None) -> Template:
        path = path or PROJECT_ROOT / "template.yaml"
        return cls(path, yaml.load(path.read_text(), Loader=_CfnLoader))

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {
            name: resource
            for name, resource in self.body["Resources"].items()
            if resource["Type"] == resource_type
        }

    def handlers(self) -> dict[str, str]:
        """Function logical id → handler ("module.function"), Globals applied."""
        return {
            name: resource["Properties"]["Handler"]
            for name, resource in self.resources("AWS::Serverless::Function").items()
        }

    def api_paths(self, function: str = "ApiFunction") -> list[str]:
        """The paths of `function`'s `Api` events, as API Gateway routes them."""
        events = self.resources("AWS::Serverless::Function")[function]["Properties"]["Events"]
        return sorted({e["Properties"]["Path"] for e in events.values() if e.get("Type") == "Api"})

    def execution_rules(self, function: str) -> dict[str, frozenset[str]]:
        """The state machines whose "Execution Status Change" events `function`'s EventBridge
        rules deliver to it: logical id → the statuses each rule lets through."""
        events = self.resources("AWS::Serverless::Function")[function]["Properties"]["Events"]
        rules: dict[str, frozenset[str]] = {}
        for event in events.values():
            if event.get("Type") != "EventBridgeRule":
                continue
            detail = event["Properties"]["Pattern"]["detail"]
            for machine in detail["stateMachineArn"]:
                rules[machine["Ref"]] = frozenset(detail["status"])
        return rules

    def table_definitions(self) -> dict[str, dict[str, Any]]:
        """CreateTable arguments for each AWS::DynamoDB::Table, straight from its Properties."""
        tables = {}
        for name, resource in self.resources("AWS::DynamoDB::Table").items():
            props = resource["Properties"]
            definition: dict[str, Any] = {
                "KeySchema": props["KeySchema"],
                "AttributeDefinitions": props["AttributeDefinitions"],
                "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
            }
            if "GlobalSecondaryIndexes" in props:
                definition["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
            tables[name] = definition
        return tables

    def state_machine_definition(self, logical_id: str, region: str) -> str:
        """The ASL file with its DefinitionSubstitutions resolved, as SAM would."""
        props = self.body["Resources"][logical_id]["Properties"]
        text = (self.path.parent / props["DefinitionUri"]).read_text()
        substitutions = {
            key: substitution_value(self.body, value, region)
            for key, value in props.get("DefinitionSubstitutions", {}).items()
        }

        def replace(match: re.Match[str]) -> str:
            key = match.group(1)
            if key not in substitutions:
                raise KeyError(f"{props['DefinitionUri']} uses ${{{key}}}, not substituted")
            return substitutions[key]

        resolved = re.sub(r"\$\{([A-Za-z0-9_]+)\}", replace, text)
        json.loads(resolved)  # fail here, not inside the engine, on a broken substitution
        return resolved
