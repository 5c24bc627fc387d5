"""The README's curl session works as written, against the local server."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

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
    """The session uses jq, as the README says; install it (Debian) where it is missing."""
    if shutil.which("jq") is None and shutil.which("apt-get") is not None:
        for command in (["apt-get", "install", "-y", "-q", "jq"], ["apt-get", "update", "-q"]):
            subprocess.run(command, capture_output=True, check=False, timeout=300)
        subprocess.run(["apt-get", "install", "-y", "-q", "jq"], capture_output=True, check=False)
    found = shutil.which("jq")
    if found is None:
        pytest.fail("jq is needed by the README's curl session: apt-get install jq", pytrace=False)
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
    effects = [
        line for line in out.splitlines() if line.startswith('{"sub_step"') and "count" in line
    ]
    assert len(effects) == 12 and all('"count":1' in line for line in effects)
    assert '{"sub_step":"restaurantRegistration","count":1,"calls":2}' in effects
    assert out.rstrip().splitlines()[-1].endswith("run_succeeded")
    # and the server agrees
    job_id = next(iter(client.get("/__sim/ledger", org=None).body["effects"]))["job_id"]
    job = client.job(job_id, org="org-wellington")
    assert job["status"] == "completed" and job["run_number"] == 2
