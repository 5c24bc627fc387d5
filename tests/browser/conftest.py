"""Browser tests: the operations page (frontend/) in Debian's Chromium, driven by Playwright.

The local server (`python -m local.server`, what `make serve` runs) is started here in a
subprocess on a free port of 127.0.0.1 and stopped at the end of the session. Chromium is the
system one (`/usr/bin/chromium`, installed by `make test`); Playwright never downloads a
browser. Screenshots go to `test-output/` (git-ignored).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from local.samples import config_data, restaurant_data
from tests.local_server import start_server, url_in_log

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# The machine's network is closed: no background fetches, no component updates, no QUIC.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_TIMEOUT_S = 90
DESKTOP = {"width": 1280, "height": 900}
NARROW = {"width": 375, "height": 812}

expect.set_options(timeout=20_000)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives the page in a real Chromium")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent:
            item.add_marker(pytest.mark.browser)


# ---------------------------------------------------------------------- the local server


@dataclass
class LocalApi:
    """The local server's URL, with a small JSON client for arranging tests over HTTP."""

    url: str

    def call(self, method: str, path: str, body: Any = None, org: str | None = None) -> Any:
        status, payload = self.request(method, path, body, org)
        assert 200 <= status < 300, f"{method} {path} answered {status}: {payload}"
        return payload

    def request(
        self, method: str, path: str, body: Any = None, org: str | None = None
    ) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        if org is not None:
            headers["Authorization"] = f"Bearer local:{org}"
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    # -- arranging

    def create_batch(self, org: str, name: str, restaurants: list[str]) -> dict[str, Any]:
        body = {"name": name, "restaurants": [restaurant_data(r) for r in restaurants]}
        created: dict[str, Any] = self.call("POST", "/registration-batches", body, org)
        return created

    def submit_step5(self, org: str, batch_id: str, jobs: dict[str, str]) -> dict[str, Any]:
        """jobs: job_id -> restaurant name."""
        body = {
            "jobs": [
                {"job_id": job_id, "execution_config": config_data(name)}
                for job_id, name in jobs.items()
            ]
        }
        answer: dict[str, Any] = self.call(
            "POST", f"/registration-batches/{batch_id}/step-5", body, org
        )
        assert not answer["rejected"], answer
        return answer

    def fault(self, **spec: Any) -> None:
        self.call("POST", "/__sim/faults", spec)

    def clear_faults(self) -> None:
        self.call("DELETE", "/__sim/faults")

    def job(self, org: str, job_id: str) -> dict[str, Any]:
        job: dict[str, Any] = self.call("GET", f"/registration-batches/jobs/{job_id}", org=org)
        return job

    def ledger(self) -> list[dict[str, Any]]:
        effects: list[dict[str, Any]] = self.call("GET", "/__sim/ledger")["effects"]
        return effects


def _wait_for_url(log: Path, process: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the local server exited early:\n{log.read_text()[-4000:]}")
        url = url_in_log(log)
        if url:
            try:
                with urllib.request.urlopen(url + "/", timeout=5) as response:
                    if response.status == 200:
                        return url
            except OSError:
                pass
        time.sleep(0.2)  # waiting for a subprocess to boot, not for the page
    raise RuntimeError(f"the local server did not start in time:\n{log.read_text()[-4000:]}")


@pytest.fixture(scope="session")
def output_dir() -> Path:
    OUTPUT.mkdir(exist_ok=True)
    return OUTPUT


@pytest.fixture(scope="package")
def server(output_dir: Path) -> Iterator[LocalApi]:
    """`make serve`'s server on a free port (PORT=0), in a subprocess, stopped after the
    browser tests."""
    log = output_dir / "browser-server.log"
    process = start_server(log, {"PYTHONUNBUFFERED": "1"})
    try:
        yield LocalApi(_wait_for_url(log, process))
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture
def api(server: LocalApi) -> Iterator[LocalApi]:
    server.clear_faults()
    yield server
    server.clear_faults()


@pytest.fixture
def org() -> str:
    """A fresh org per test: its batch list holds only what the test made."""
    return f"ops-{uuid.uuid4().hex[:10]}"


# ---------------------------------------------------------------------- the browser


@pytest.fixture(scope="package")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="package")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: `make test` installs it (apt-get install chromium); "
            "Playwright's own browser downloads are not used"
        )
    browser = playwright_instance.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(20_000)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    """A page that fails the test on any uncaught script error."""
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    assert not errors, f"script errors on the page: {errors}"
