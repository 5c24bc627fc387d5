"""Every function's Handler names a module under src/ that defines it; each phase function
runs its own phase."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from typing import Any

import pytest
from tools.cfn_template import REPO_ROOT, functions

from local.lambdas import FakeLambdaContext
from state.models import PHASE_NAMES
from tests.contract.conftest import DEPLOYED_PACKAGES, makefile_list

SRC = REPO_ROOT / "src"


def _handler_parts(resource: dict[str, Any]) -> tuple[str, str]:
    handler = resource["Properties"]["Handler"]
    assert isinstance(handler, str), "Handler must be a literal string (the local runtime reads it)"
    module, _, attribute = handler.rpartition(".")
    return module, attribute


def test_the_build_ships_every_package_of_src_but_the_local_runtime() -> None:
    assert set(makefile_list("PACKAGES")) == DEPLOYED_PACKAGES, (
        "sam-build/Makefile's PACKAGES must be src/'s packages except src/local"
    )


def test_handlers_are_literal_and_in_deployed_packages(template: dict[str, Any]) -> None:
    for logical_id, resource in functions(template).items():
        module, attribute = _handler_parts(resource)
        assert module, f"{logical_id}: Handler must be <module>.<function>"
        assert attribute, f"{logical_id}: Handler must be <module>.<function>"
        assert module.split(".")[0] in DEPLOYED_PACKAGES, (
            f"{logical_id}: {module} is outside the packages the build ships"
        )


def test_handler_modules_exist_and_define_the_handler(template: dict[str, Any]) -> None:
    missing: list[str] = []
    undefined: list[str] = []
    for logical_id, resource in functions(template).items():
        module, attribute = _handler_parts(resource)
        path = SRC.joinpath(*module.split(".")).with_suffix(".py")
        if not path.is_file():
            missing.append(f"{logical_id}: {path.relative_to(REPO_ROOT)}")
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        names = {
            node.name
            for node in tree.body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        }
        for node in tree.body:
            targets = node.targets if isinstance(node, ast.Assign) else []
            if isinstance(node, ast.AnnAssign):
                targets = [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
        names |= {
            alias.asname or alias.name
            for node in tree.body
            if isinstance(node, ast.ImportFrom)
            for alias in node.names
        }
        if attribute not in names:
            undefined.append(f"{logical_id}: {module}.{attribute}")
    assert not missing, "handler modules missing under src/: " + ", ".join(missing)
    assert not undefined, "handler modules without the named handler: " + ", ".join(undefined)


def test_each_phase_function_runs_the_phase_the_state_machine_sends_it(
    template: dict[str, Any],
) -> None:
    # DefinitionSubstitutions name each function `<LogicalId>Arn` (see template.yaml's header)
    asl = json.loads((REPO_ROOT / "statemachine" / "step6.asl.json").read_text(encoding="utf-8"))
    sent: dict[str, str] = {}
    for state in asl["States"].values():
        parameters = state.get("Parameters") or {}
        phase = (parameters.get("Payload") or {}).get("phase")
        if phase is not None:
            sent[parameters["FunctionName"].removeprefix("${").removesuffix("Arn}")] = phase
    assert sorted(sent.values()) == list(PHASE_NAMES)
    for logical_id, phase in sent.items():
        handler = functions(template)[logical_id]["Properties"]["Handler"]
        assert handler == f"handlers.phase.{phase}", logical_id


def test_a_phase_handler_refuses_another_phases_event() -> None:
    from handlers import phase as phase_module

    event = json.loads((REPO_ROOT / "events" / "phase1.json").read_text(encoding="utf-8"))
    with pytest.raises(ValueError, match="this function runs phase2, not phase1"):
        phase_module.phase2(event, FakeLambdaContext(function_name="Phase2Function"))
    assert {name for name in PHASE_NAMES if callable(getattr(phase_module, name, None))} == set(
        PHASE_NAMES
    )


# Cold start: what a handler module must not import (each is built or imported on first use,
# or belongs to another function).
NEVER_AT_IMPORT = (
    "clients.simulator",
    "clients.http_platform",
    "aws_lambda_powertools.event_handler.openapi.models",
    "moto",
    "local",
)
API_ONLY = ("aws_lambda_powertools.event_handler", "handlers.api_models")


def test_handler_modules_import_only_what_their_path_needs(template: dict[str, Any]) -> None:
    modules = sorted({_handler_parts(r)[0] for r in functions(template).values()})
    probe = (
        "import importlib, json, sys\n"
        "before = set(sys.modules)\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "    print(json.dumps([name, sorted(set(sys.modules) - before)]))\n"
        "    for loaded in set(sys.modules) - before:\n"
        "        del sys.modules[loaded]\n"
    )
    # one fresh interpreter, each module imported from a clean slate of project modules
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env=os.environ | {"PYTHONPATH": str(SRC)},
        check=True,
        timeout=120,
    )
    for line in done.stdout.splitlines():
        module, loaded = json.loads(line)
        forbidden = NEVER_AT_IMPORT + (() if module == "handlers.api" else API_ONLY)
        found = [
            m for m in loaded if m in forbidden or m.startswith(tuple(f + "." for f in forbidden))
        ]
        assert not found, f"{module} imports {found}"
