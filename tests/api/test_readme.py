"""The README's curl session works as written, against the local server."""

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


def readme_session() -> str:
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert MARKER in text, "the README's curl session lost its marker"
    found = re.search(r"```bash\n(.*?)```", text[text.index(MARKER) :], re.S)
    assert found is not None
    return found.group(1)


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
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", readme_session()],
        cwd=tmp_path,
        env=os.environ | {"API": server.url},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
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
