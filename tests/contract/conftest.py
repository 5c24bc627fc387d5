"""Shared helpers for the contract suite: the template, and the tools it runs.

Missing tools fail the test (never skip): `make setup` installs them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tools.cfn_template import REPO_ROOT, load_template

SAM = REPO_ROOT / ".tools-venv" / "bin" / "sam"
ASL_VALIDATOR = REPO_ROOT / "node_modules" / ".bin" / "asl-validator"
EXPECTED_HANDLERS = {
    "PrepareRunFunction": "handlers.prepare_run.handler",
    "Phase1Function": "handlers.phase.phase1",
    "Phase2Function": "handlers.phase.phase2",
    "Phase3Function": "handlers.phase.phase3",
    "Phase4Function": "handlers.phase.phase4",
    "CompleteRunFunction": "handlers.complete_run.handler",
    "ReconcileFunction": "handlers.reconcile.handler",
    "ApiFunction": "handlers.api.handler",
}
EXPECTED_ROUTES = {
    ("POST", "/registration-batches"),
    ("GET", "/registration-batches"),
    ("GET", "/registration-batches/{batchId}"),
    ("GET", "/registration-batches/jobs/{jobId}"),
    ("POST", "/registration-batches/{batchId}/step-5"),
    ("POST", "/registration-batches/jobs/{jobId}/resume-step-6"),
    ("POST", "/registration-batches/{batchId}/resume-step-6"),
    ("GET", "/registration-batches/jobs/{jobId}/events"),
}
SETUP_HINT = "run `make setup` (creates .tools-venv with aws-sam-cli and runs `npm ci`)"


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
