"""template.yaml passes cfn-lint and `sam validate --lint`."""

from __future__ import annotations

from tests.contract.conftest import SAM, cfn_lint_path, require_tool, run


def test_cfn_lint_passes() -> None:
    proc = run([cfn_lint_path(), "template.yaml"])
    assert proc.returncode == 0, f"cfn-lint failed:\n{proc.stdout}\n{proc.stderr}"


def test_sam_validate_lint_passes() -> None:
    sam = require_tool(SAM)
    proc = run([sam, "validate", "--lint", "--template-file", "template.yaml"])
    assert proc.returncode == 0, f"sam validate --lint failed:\n{proc.stdout}\n{proc.stderr}"
    assert "is a valid SAM Template" in proc.stdout + proc.stderr
