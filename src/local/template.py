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
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
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


def function_arn(logical_id: str, region: str) -> str:
    return f"arn:aws:lambda:{region}:{FAKE_ACCOUNT}:function:{logical_id}"


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
            key: self._resolve(value, region)
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

    def _resolve(self, value: Any, region: str) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, dict) and "Fn::GetAtt" in value:
            target, attribute = value["Fn::GetAtt"]
            if attribute == "Arn":
                return function_arn(target, region)
        if isinstance(value, dict) and "Ref" in value:
            return str(value["Ref"])
        raise ValueError(f"cannot resolve substitution {value!r} locally")
