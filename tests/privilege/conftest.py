"""Records every AWS call the local functions make in this session, and runs the privilege
tests last, once the suites that make those calls have run.

The calls come from the suites whose runtimes run each function in worker processes of its own
(FEEDING_SUITES). Whether a grant is never used can only be said when all of them ran in full
and passed: `make test` runs them all; a partial run checks the recorded calls only and says
why the rest was skipped.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from tools.cfn_template import REPO_ROOT, TEMPLATE_PATH

from local import calls
from local.intrinsics import Resolver
from local.request_calls import SECRET_ARN_SUFFIX
from local.roles import PrincipalRole, principal_roles
from local.runtime import PLATFORM_KEY_SECRET
from local.template import FAKE_ACCOUNT

PRIVILEGE_DIR = Path(__file__).resolve().parent
FEEDING_SUITES = ("tests/integration", "tests/resilience", "tests/api", "tests/operations")
TOOLS_PYTHON = REPO_ROOT / ".tools-venv" / "bin" / "python"
REGION = "us-east-1"
# The stack a local run stands for: Stage `local` (the runtime's platform key secret is
# pumpd-onboarding/local/platform-api-key), and its phases reach the
# in-memory simulator as PlatformMode=http reaches the real platform, their key read from the
# runtime's secret. (The sandbox's own suite, tests/sandbox, keeps its tables on DynamoDB
# Local, whose calls are not recorded: tests/contract/test_permissions.py derives its grants.)
LOCAL_PARAMETERS = {
    "Stage": "local",
    "PlatformMode": "http",
    "PlatformBaseUrl": "https://platform.local",
    "PlatformApiKeySecretArn": (
        f"arn:aws:secretsmanager:{REGION}:{FAKE_ACCOUNT}:secret:{PLATFORM_KEY_SECRET}"
        f"{SECRET_ARN_SUFFIX}"
    ),
}

_MISSING = pytest.StashKey[list[str]]()


def _covered(suite: Path, config: pytest.Config) -> bool:
    args = [a for a in config.args if "::" not in a]
    chosen = any(
        suite == path or path in suite.parents
        for path in (Path(config.invocation_params.dir, a).resolve() for a in args)
    )
    ignored = [Path(p).resolve() for p in config.getoption("ignore") or []]
    return chosen and not any(suite == p or p in suite.parents for p in ignored)


# pyproject.toml's addopts: every test but the full-size scale ones (`make bench` runs those).
DEFAULT_MARKEXPR = "not scale"


def missing_feeds(config: pytest.Config) -> list[str]:
    """Why this session's recorded calls may not be all the functions make (empty: they are)."""
    reasons = [
        f"{suite} did not run in full"
        for suite in FEEDING_SUITES
        if not _covered((REPO_ROOT / suite).resolve(), config)
    ]
    for option in ("keyword", "markexpr", "deselect", "lf"):
        value = config.getoption(option, None)
        # `make test`'s own selection leaves out the full-size scale tests (pyproject addopts):
        # their bounded versions run, through the same functions, so the record is complete.
        if value and not (option == "markexpr" and value == DEFAULT_MARKEXPR):
            reasons.append(f"tests were selected (--{option})")
    return reasons


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    calls.start_recording()  # before any test runs: every call of the session is seen
    privilege = [i for i in items if PRIVILEGE_DIR in i.path.parents]
    chosen = set(privilege)
    items[:] = [i for i in items if i not in chosen] + privilege
    config.stash[_MISSING] = missing_feeds(config)


@pytest.fixture(scope="session")
def recorded() -> frozenset[calls.Call]:
    return calls.start_recording().calls()


@pytest.fixture
def complete_record(request: pytest.FixtureRequest, recorded: frozenset[calls.Call]) -> Any:
    """The recorded calls, when they are all the functions make in the feeding suites."""
    missing = request.config.stash.get(_MISSING, ["the privilege conftest did not collect"])
    if request.session.testsfailed:
        missing = [*missing, f"{request.session.testsfailed} test(s) failed before"]
    if missing:
        pytest.skip(
            "unused grants are checked when the feeding suites ran in full and passed: "
            + "; ".join(missing)
        )
    return recorded


@pytest.fixture(scope="session")
def transformed() -> dict[str, Any]:
    if not TOOLS_PYTHON.exists():
        pytest.fail(".tools-venv not found: run `make setup`", pytrace=False)
    parameters = [f"{k}={v}" for k, v in LOCAL_PARAMETERS.items()]
    done = subprocess.run(
        [TOOLS_PYTHON, REPO_ROOT / "tools" / "sam_transform.py", TEMPLATE_PATH, *parameters],
        capture_output=True,
        text=True,
        check=False,
        env=dict(os.environ, AWS_DEFAULT_REGION=REGION),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.fixture(scope="session")
def resolver(transformed: dict[str, Any]) -> Resolver:
    return Resolver(transformed, region=REGION, parameters=LOCAL_PARAMETERS)


@pytest.fixture(scope="session")
def roles(transformed: dict[str, Any], resolver: Resolver) -> dict[str, PrincipalRole]:
    return principal_roles(transformed, resolver)
