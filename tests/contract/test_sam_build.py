"""`sam build` works here (no python3.12) and packages exactly what Lambda should get."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from tools.cfn_template import REPO_ROOT, functions

from tests.contract.conftest import DEPLOYED_PACKAGES, SAM, require_tool, run

LAYER_REQUIREMENTS = REPO_ROOT / "sam-build" / "requirements.txt"
PURE_REQUIREMENTS = REPO_ROOT / "sam-build" / "requirements-pure.txt"
# Provided by the Lambda runtime; a copy in the layer would shadow it.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "urllib3", "dateutil")


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sam = require_tool(SAM)
    out = tmp_path_factory.mktemp("sam") / "build"
    proc = run(
        [sam, "build", "--template-file", "template.yaml", "--build-dir", out, "--no-cached"],
        timeout=900,
    )
    assert proc.returncode == 0, f"sam build failed:\n{proc.stdout}\n{proc.stderr}"
    return out


def _pins() -> dict[str, str]:
    pins = {}
    text = LAYER_REQUIREMENTS.read_text(encoding="utf-8")
    # the pure-Python packages PyPI has as source only, built apart (sam-build/Makefile)
    text += "\n" + PURE_REQUIREMENTS.read_text(encoding="utf-8")
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[re.sub(r"\[.*\]", "", name).lower().replace("-", "_")] = version
    return pins


@pytest.mark.slow
def test_every_function_ships_the_deployed_packages_only(
    template: dict[str, Any], build_dir: Path
) -> None:
    for logical_id in functions(template):
        artifact = build_dir / logical_id
        assert artifact.is_dir(), f"no build artifact for {logical_id}"
        for package in sorted(DEPLOYED_PACKAGES):
            assert (artifact / package / "__init__.py").is_file(), f"{logical_id}: no {package}/"
        assert not (artifact / "local").exists(), f"{logical_id} ships src/local"
        top_level = {p.name for p in artifact.iterdir()}
        assert top_level <= DEPLOYED_PACKAGES, f"{logical_id} ships extra: {top_level}"
        assert not list(artifact.rglob("__pycache__")), f"{logical_id} ships __pycache__"
        assert not list(artifact.rglob("*.egg-info")), f"{logical_id} ships egg-info"


@pytest.mark.slow
def test_layer_has_cp312_dependencies_and_no_boto(build_dir: Path) -> None:
    python = build_dir / "DependenciesLayer" / "python"
    assert python.is_dir(), "layer content must sit under python/ (Lambda adds /opt/python)"
    for package in ("pydantic", "pydantic_core", "pydantic_settings", "aws_lambda_powertools"):
        assert (python / package / "__init__.py").is_file(), f"layer lacks {package}"
    assert (python / "aws_xray_sdk").is_dir(), "Tracer needs aws_xray_sdk"
    assert (python / "email_validator").is_dir(), "pydantic[email] needs email_validator"
    native = list(python.rglob("*.so"))
    assert any("cpython-312-x86_64-linux-gnu" in so.name for so in native), native
    wrong = [so.name for so in native if "cpython-3" in so.name and "cpython-312" not in so.name]
    assert not wrong, f"extension modules for another Python: {wrong}"
    assert not list(python.rglob("*.cpython-311.pyc")), "bytecode compiled by the build Python"
    for name in RUNTIME_PROVIDED:
        assert not (python / name).exists(), f"layer ships {name}; the runtime provides it"


@pytest.mark.slow
def test_layer_versions_are_the_pinned_ones(build_dir: Path) -> None:
    python = build_dir / "DependenciesLayer" / "python"
    installed = {}
    for dist_info in python.glob("*.dist-info"):
        name, _, version = dist_info.name.removesuffix(".dist-info").partition("-")
        installed[name.lower().replace("-", "_")] = version
    assert installed == _pins()


@pytest.mark.slow
def test_built_template_points_at_the_artifacts(template: dict[str, Any], build_dir: Path) -> None:
    text = (build_dir / "template.yaml").read_text(encoding="utf-8")
    # Short tags survive in the built template; only the code locations matter here.
    built = yaml.load(text, Loader=_ignore_tags_loader())
    resources = built["Resources"]
    for logical_id in functions(template):
        assert resources[logical_id]["Properties"]["CodeUri"] == logical_id
    assert resources["DependenciesLayer"]["Properties"]["ContentUri"] == "DependenciesLayer"


def _ignore_tags_loader() -> type[yaml.SafeLoader]:
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    return Loader
