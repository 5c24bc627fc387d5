"""Validate the state machine definitions the way AWS will see them.

For every AWS::Serverless::StateMachine in template.yaml with a local DefinitionUri, this
substitutes its DefinitionSubstitutions with fake but well-formed ARNs
(`arn:aws:lambda:us-east-1:123456789012:function:<LogicalId>`), writes the result to a
temporary file and runs the npm `asl-validator` on it (cfn-lint does not look inside
DefinitionUri files, and moto accepts e.g. a `Next` to a missing state).

    python tools/validate_asl.py            # exit 0 when every definition is valid

Needs `npm ci` (node_modules/.bin/asl-validator); `make setup` runs it.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `tools` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from tools.cfn_template import REPO_ROOT, TEMPLATE_PATH, fake_value, load_template

VALIDATOR = REPO_ROOT / "node_modules" / ".bin" / "asl-validator"
FAKE_REGION = "us-east-1"
FAKE_ACCOUNT = "123456789012"
PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")
STATE_MACHINE_TYPES = ("AWS::Serverless::StateMachine",)


class ValidatorMissingError(RuntimeError):
    pass


@dataclass(frozen=True)
class StateMachineDefinition:
    logical_id: str
    path: Path
    substitutions: dict[str, Any]

    def text(self) -> str:
        return self.path.read_text(encoding="utf-8")

    def placeholders(self) -> set[str]:
        return set(PLACEHOLDER.findall(self.text()))


@dataclass(frozen=True)
class ValidationResult:
    ok: bool
    output: str


def state_machines(template: dict[str, Any] | None = None) -> list[StateMachineDefinition]:
    template = template if template is not None else load_template()
    found = []
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") not in STATE_MACHINE_TYPES:
            continue
        props = resource.get("Properties", {})
        uri = props.get("DefinitionUri")
        if not isinstance(uri, str):
            continue  # inline Definition or an S3 location: nothing local to check
        found.append(
            StateMachineDefinition(
                logical_id=logical_id,
                path=REPO_ROOT / uri,
                substitutions=dict(props.get("DefinitionSubstitutions") or {}),
            )
        )
    return found


def substitute(text: str, values: dict[str, str]) -> str:
    """Replace `${Key}` like Step Functions does; an unknown key is an error."""
    missing = sorted(set(PLACEHOLDER.findall(text)) - set(values))
    if missing:
        raise KeyError(f"placeholders with no DefinitionSubstitutions entry: {missing}")
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def resolved_definition(
    machine: StateMachineDefinition, template: dict[str, Any] | None = None
) -> dict[str, Any]:
    template = template if template is not None else load_template()
    values = {
        key: fake_value(template, value, FAKE_REGION, FAKE_ACCOUNT)
        for key, value in machine.substitutions.items()
    }
    definition: dict[str, Any] = json.loads(substitute(machine.text(), values))
    return definition


def validate_definition(definition: dict[str, Any]) -> ValidationResult:
    """Run asl-validator on a definition (after substitution)."""
    if not VALIDATOR.exists():
        raise ValidatorMissingError(
            f"{VALIDATOR.relative_to(REPO_ROOT)} is missing: run `make setup` (npm ci)"
        )
    with tempfile.TemporaryDirectory(prefix="asl-") as tmp:
        path = Path(tmp) / "definition.asl.json"
        path.write_text(json.dumps(definition, indent=2), encoding="utf-8")
        proc = subprocess.run(
            [str(VALIDATOR), "--json-path", str(path)],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
    return ValidationResult(ok=proc.returncode == 0, output=(proc.stdout + proc.stderr).strip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", type=Path, default=TEMPLATE_PATH)
    args = parser.parse_args(argv)
    template = load_template(args.template)
    machines = state_machines(template)
    if not machines:
        print("no AWS::Serverless::StateMachine with a local DefinitionUri", file=sys.stderr)
        return 1
    failed = False
    for machine in machines:
        try:
            result = validate_definition(resolved_definition(machine, template))
        except (KeyError, ValueError) as exc:
            failed = True
            print(f"✕ {machine.logical_id} ({machine.path.name}): {exc}", file=sys.stderr)
            continue
        except ValidatorMissingError as exc:
            print(str(exc), file=sys.stderr)
            return 2
        failed |= not result.ok
        mark = "✓" if result.ok else "✕"
        print(f"{mark} {machine.logical_id} ({machine.path.relative_to(REPO_ROOT)})")
        if not result.ok:
            print(result.output, file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
