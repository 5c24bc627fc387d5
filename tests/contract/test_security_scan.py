"""checkov scans template.yaml: no check fails, and every check skipped is skipped in the template
with its reason (a resource's `Metadata: checkov: skip: [{id, comment}]`).

checkov (no Prisma Cloud key here) reports no severities, so no failure is tolerated at all.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from tools.cfn_template import REPO_ROOT

from tests.contract.conftest import require_tool, run

CHECKOV = REPO_ROOT / ".checkov-venv" / "bin" / "checkov"
# a reason says why the check does not apply here, not just that it is skipped
MIN_REASON_LENGTH = 60


@pytest.fixture(scope="module")
def scan() -> dict[str, Any]:
    checkov = require_tool(CHECKOV)
    proc = run(
        [
            checkov,
            "--file",
            "template.yaml",
            "--framework",
            "cloudformation",
            "--output",
            "json",
            "--skip-download",
            "--soft-fail",
        ]
    )
    assert proc.returncode == 0, f"checkov did not run:\n{proc.stdout}\n{proc.stderr}"
    report: dict[str, Any] = json.loads(proc.stdout)
    return report


def _declared_skips(template: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(resource, check id) -> reason, from the template's Metadata."""
    declared = {}
    for logical_id, resource in template["Resources"].items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            declared[(f"{resource['Type']}.{logical_id}", skip["id"])] = skip.get("comment", "")
    return declared


def test_checkov_parses_the_whole_template(scan: dict[str, Any], template: dict[str, Any]) -> None:
    summary = scan["summary"]
    assert summary["parsing_errors"] == 0
    assert summary["resource_count"] >= len(template["Resources"])
    assert summary["passed"] > 0


def test_no_check_fails(scan: dict[str, Any]) -> None:
    failed = [
        f"{c['check_id']} {c['check_name']} ({c['resource']})"
        for c in scan["results"]["failed_checks"]
    ]
    assert not failed, "checkov failed checks (fix, or skip in the template with a reason):\n" + (
        "\n".join(failed)
    )


def test_every_skip_is_declared_with_a_reason(
    scan: dict[str, Any], template: dict[str, Any]
) -> None:
    declared = _declared_skips(template)
    skipped = {(c["resource"], c["check_id"]) for c in scan["results"]["skipped_checks"]}
    # checkov skipped exactly what the template declares: no skip from elsewhere (CLI,
    # config file) and no declared skip that names a check or resource checkov does not see
    assert skipped == set(declared)
    for (resource, check_id), reason in declared.items():
        assert len(reason.strip()) >= MIN_REASON_LENGTH, f"{resource}: {check_id} has no reason"
