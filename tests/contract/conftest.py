"""Shared helpers for the contract suite: the template, and the tools it runs.

Missing tools fail the test (never skip): `make setup` installs them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tools.cfn_template import REPO_ROOT, load_template

SAM = REPO_ROOT / ".tools-venv" / "bin" / "sam"
ASL_VALIDATOR = REPO_ROOT / "node_modules" / ".bin" / "asl-validator"
SAM_BUILD_MAKEFILE = REPO_ROOT / "sam-build" / "Makefile"
# What Lambda gets: every package of src/ but the local runtime (src/local never ships).
LOCAL_ONLY_PACKAGES = {"local"}
DEPLOYED_PACKAGES = {
    init.parent.name for init in (REPO_ROOT / "src").glob("*/__init__.py")
} - LOCAL_ONLY_PACKAGES
SETUP_HINT = (
    "run `make setup` (creates .tools-venv with aws-sam-cli, .checkov-venv with checkov, and runs"
    " `npm ci`)"
)


def makefile_list(name: str, makefile: Path = SAM_BUILD_MAKEFILE) -> list[str]:
    """The words of `NAME := ...` in a Makefile (continuation lines joined)."""
    text = makefile.read_text(encoding="utf-8").replace("\\\n", " ")
    found = re.search(rf"^{re.escape(name)}\s*:?=(.*)$", text, re.M)
    assert found is not None, f"{makefile.relative_to(REPO_ROOT)} defines no {name}"
    return found.group(1).split()


def require_tool(path: Path) -> Path:
    if not path.exists():
        pytest.fail(f"{path.relative_to(REPO_ROOT)} not found: {SETUP_HINT}", pytrace=False)
    return path


def cfn_lint_path() -> Path:
    """cfn-lint from the project venv (next to this interpreter), else from PATH."""
    beside = Path(sys.executable).parent / "cfn-lint"
    if beside.exists():
        return beside
    found = shutil.which("cfn-lint")
    if found is None:
        pytest.fail(f"cfn-lint not found (it is a dev dependency): {SETUP_HINT}", pytrace=False)
    return Path(found)


def tool_env() -> dict[str, str]:
    env = dict(os.environ)
    env["SAM_CLI_TELEMETRY"] = "0"  # no network here; no prompts
    env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    return env


def run(args: list[str | Path], timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args],
        cwd=REPO_ROOT,
        env=tool_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    return load_template()
