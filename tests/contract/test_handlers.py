"""Every function's Handler names a module under src/ that defines it."""

from __future__ import annotations

import ast
from typing import Any

from tools.cfn_template import REPO_ROOT, functions

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
