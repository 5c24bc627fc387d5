"""Read template.yaml (CloudFormation/SAM YAML with short tags) into plain Python data.

Short tags become their long form: `!GetAtt A.Arn` -> {"Fn::GetAtt": ["A", "Arn"]},
`!Ref X` -> {"Ref": "X"}, `!Sub s` -> {"Fn::Sub": s}, and so on. Used by the ASL validator
and the contract tests; it resolves nothing against AWS.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from local.template import FUNCTION_TYPES, load_cfn_yaml, substitution_value

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = REPO_ROOT / "template.yaml"


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    return load_cfn_yaml(path)


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
    return substitution_value(template, value, region, account)
