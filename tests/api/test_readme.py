"""The README's curl sessions work as written, against the local server."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from domain.catalogue import SUB_STEP_NAMES
from local.server import LocalServer
from local.template import PROJECT_ROOT
from tests.api.conftest import HttpClient

pytestmark = pytest.mark.integration

MARKER = "<!-- This block runs as written in tests/api/test_readme.py"
FIXES_MARKER = f"{MARKER} (the fixes)"
OPERATIONS_MARKER = f"{MARKER} (bulk operations)"


def readme_session(marker: str = MARKER) -> str:
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert marker in text, "a README curl session lost its marker"
    found = re.search(r"```bash\n(.*?)```", text[text.index(marker) :], re.S)
    assert found is not None
    return found.group(1)


def run_session(session: str, server: LocalServer, cwd: Path) -> str:
    """The session's output when it runs in bash against the server (API points at it)."""
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", session],
        cwd=cwd,
        env=os.environ | {"API": server.url},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def require_jq() -> str:
    """The session uses jq, as the README says; `make setup` installs it."""
    found = shutil.which("jq")
    if found is None:
        pytest.fail(
            "jq is needed by the README's curl session and is not on PATH: run `make setup` "
            "(it installs jq with apt-get)",
            pytrace=False,
        )
    return found


def test_the_readme_curl_session_works_as_written(
    served: tuple[LocalServer, HttpClient], tmp_path: Path
) -> None:
    require_jq()
    server, client = served
    # when the README's commands run in bash against the server (API points at it)
    out = run_session(readme_session(), server, tmp_path)
    # then it saw the job fail at phase 2, resume from there, and complete
    assert '"resume_from": "phase2"' in out and '"sub_step": "restaurantRegistration"' in out
    assert '"status": "action_required"' in out and '"status": "completed"' in out
    # one effect per sub-step of the catalogue, each taken once; the failed one asked twice
    effects = [
        json.loads(line)
        for line in out.splitlines()
        if line.startswith('{"sub_step"') and "count" in line
    ]
    assert sorted(e["sub_step"] for e in effects) == sorted(SUB_STEP_NAMES), effects
    assert all(e["count"] == 1 for e in effects), effects
    calls = {e["sub_step"]: e["calls"] for e in effects}
    assert calls == {name: 2 if name == "restaurantRegistration" else 1 for name in calls}
    assert out.rstrip().splitlines()[-1].endswith("run_succeeded")
    # and the server agrees
    job_id = next(iter(client.get("/__sim/ledger", org=None).body["effects"]))["job_id"]
    job = client.job(job_id, org="org-wellington")
    assert job["status"] == "completed" and job["run_number"] == 2


def test_the_readme_fixes_session_works_as_written(
    served: tuple[LocalServer, HttpClient], tmp_path: Path
) -> None:
    require_jq()
    server, client = served
    # when the README's second session (cancel, amend, re-run, skip) runs against the server
    out = run_session(readme_session(FIXES_MARKER), server, tmp_path)
    lines = out.splitlines()
    # then each fix did what the README's comments say
    assert lines[0] == (
        '{"sub_step":"cloudwaitressAccount","error_code":"platform_rejected",'
        '"platform_code":"email_taken","retryable":false}'
    )
    assert '{"email":"owner+2@tacos.example","step5":"completed"}' in lines
    assert (
        '{"error":"config_in_use","fields":[{"field":"account.email",'
        '"used_by":["cloudwaitressAccount"]}]}'
    ) in lines
    assert '{"resume_from":"phase1","reset":["codeGeneration","websiteConfig"]}' in lines
    assert '["execution_arn","job_id"]' in lines
    assert '{"status":"action_required","resumable":true,"code":"aborted"}' in lines
    assert '{"status":"completed","step6":"completed_with_errors","resumable":true}' in lines
    assert '{"status":"completed","step6":"completed","resumable":false}' in lines
    runs = [line for line in lines if line.startswith("run ")]
    assert runs[-1] == "run 1 step5 by ops@pumpd.example: failed" and len(runs) == 5, runs
    assert "run 4 rerun by ops@pumpd.example: aborted" in runs
    assert "cancel_requested by ops@pumpd.example" in lines
    assert "sub_step_skipped by ops@pumpd.example" in lines
    assert "run_failed by system" in lines
    # and no platform effect happened twice under one key; the re-runs' each once more
    effects = client.get("/__sim/ledger", org=None).body["effects"]
    assert all(e["count"] == 1 for e in effects), effects
    reran = sorted(
        e["idempotency_key"].split(":", 1)[1]
        for e in effects
        if e["idempotency_key"].count(":") == 2
    )
    # (paymentConfig's re-run was refused by the platform: no effect; then skipped)
    assert reran == ["codeGeneration:1", "itemTags:1", "websiteConfig:1"], reran


def test_the_readme_bulk_operations_session_works_as_written(
    served: tuple[LocalServer, HttpClient], tmp_path: Path
) -> None:
    require_jq()
    server, client = served
    # when the first session and then the bulk operations one run against the server
    session = readme_session() + "\n" + readme_session(OPERATIONS_MARKER)
    lines = run_session(session, server, tmp_path).splitlines()
    # then the Step 5 operation ran all three: two failed at the registration, one succeeded
    assert (
        '{"matched":3,"pending":0,"running":0,"succeeded":1,"failed":2,"rejected":0,"cancelled":0}'
    ) in lines
    # and the resume operation took exactly those two, and both succeeded
    outcomes = [json.loads(line) for line in lines if line.startswith('{"restaurant_name"')]
    assert len(outcomes) == 2 and all(o["outcome"] == "succeeded" for o in outcomes), outcomes
    listed = [json.loads(line) for line in lines if line.startswith('{"operation_id"')]
    assert [(o["action"], o["status"]) for o in listed] == [
        ("resume_step6", "completed"),
        ("submit_step5", "completed"),
    ]
    # and no platform effect took place twice
    effects = client.get("/__sim/ledger", org=None).body["effects"]
    assert effects and all(e["count"] == 1 for e in effects), effects


STEPS_MARKER = f"{MARKER} (steps 1-4)"


def test_the_readme_steps_1_to_4_session_works_as_written(
    served: tuple[LocalServer, HttpClient], tmp_path: Path
) -> None:
    require_jq()
    server, _ = served
    # when the first session and then the Steps 1-4 one run against the server
    session = readme_session() + "\n" + readme_session(STEPS_MARKER)
    lines = run_session(session, server, tmp_path).splitlines()
    # then the restaurant read from its website waits at Step 5 with its company
    final = [json.loads(line) for line in lines if line.startswith('{"status"')]
    assert final, lines[-10:]
    assert final[-1]["status"] == "action_required"
    assert final[-1]["steps"] == ["completed"] * 4 + ["action_required", "pending"]
    assert final[-1]["company"]
    found = [json.loads(line) for line in lines if line.startswith('{"items"')]
    assert found and found[0]["items"] > 0 and found[0]["phone"].startswith("+64")
