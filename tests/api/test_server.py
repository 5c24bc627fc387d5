"""The local server (`make serve`): auth, the frontend, the simulator's controls, plumbing."""

from __future__ import annotations

import http.client
import json
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from handlers.api import handler
from local.lambdas import FakeLambdaContext
from local.server import LocalServer
from local.template import PROJECT_ROOT
from tests.api.conftest import ORG, Api, HttpClient
from tests.local_server import start_server, url_in_log

pytestmark = pytest.mark.integration

Served = tuple[LocalServer, HttpClient]


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer local:", "Bearer org-a", "Basic b3JnLWE6", "Bearer local:a b"],
)
def test_the_api_answers_401_without_valid_local_credentials(
    served: Served, authorization: str | None
) -> None:
    _, client = served
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    for method, path in [
        ("GET", "/registration-batches"),
        ("POST", "/registration-batches"),
        ("GET", "/registration-batches/jobs/abc"),
        ("POST", "/registration-batches/jobs/abc/resume-step-6"),
    ]:
        reply = client.raw(method, path, "{}" if method == "POST" else None, headers)
        assert reply.status == 401, (method, path, reply)
        assert reply.body["error"] == "unauthorized"
        assert "Bearer local:<org_id>" in reply.body["message"]


def test_a_local_token_scopes_requests_to_its_org(served: Served) -> None:
    _, client = served
    created = client.create_batch(["Cafe Aroha"], org="org-x")
    assert client.get(f"/registration-batches/{created['batch_id']}", org="org-x").status == 200
    assert client.get(f"/registration-batches/{created['batch_id']}", org="org-y").status == 404


def test_the_simulator_controls(served: Served) -> None:
    _, client = served
    reply = client.post("/__sim/faults", {"sub_step": "menuImport", "mode": "transient"}, org=None)
    assert reply.status == 201, reply
    assert reply.body["fault"] == {
        "sub_step": "menuImport",
        "mode": "transient",
        "times": 1,
        "restaurant": None,
        "job_id": None,
        "latency_ms": None,
        "platform_code": None,
    }
    assert [f["sub_step"] for f in client.get("/__sim/faults", org=None).body["faults"]] == [
        "menuImport"
    ]
    coded = {"sub_step": "cloudwaitressAccount", "mode": "fail", "platform_code": "email_taken"}
    assert client.post("/__sim/faults", coded, org=None).body["fault"]["platform_code"] == (
        "email_taken"
    )
    only_with_fail = {"sub_step": "menuImport", "mode": "transient", "platform_code": "x_y"}
    assert client.post("/__sim/faults", only_with_fail, org=None).status == 422
    bad = client.post("/__sim/faults", {"sub_step": "menuImport", "mode": "explode"}, org=None)
    assert bad.status == 422 and bad.body["fields"][0]["field"] == "mode", bad
    assert client.call("DELETE", "/__sim/faults", org=None).body == {"faults": []}
    assert client.get("/__sim/faults", org=None).body == {"faults": []}
    assert client.get("/__sim/ledger", org=None).body == {"effects": []}
    assert client.get("/__sim/nothing", org=None).status == 404


def test_the_frontend_is_served_at_the_root(served: Served) -> None:
    server, client = served
    index = server.frontend / "index.html"
    if not index.exists():
        pytest.fail("frontend/index.html is missing")
    reply = client.raw("GET", "/", None, {})
    assert reply.status == 200 and reply.headers["Content-Type"].startswith("text/html")
    assert reply.body == index.read_text(encoding="utf-8")
    assert client.raw("GET", "/no-such-file.js", None, {}).status == 404


def test_without_a_frontend_the_root_is_a_placeholder(tmp_path: Path, api: Api) -> None:
    with LocalServer(port=0, runtime=api.runtime, frontend=tmp_path / "frontend", quiet=True) as s:
        client = HttpClient(s.url)
        root = client.raw("GET", "/", None, {})
        assert root.status == 200 and "/registration-batches" in root.body
        assert client.raw("GET", "/app.js", None, {}).status == 404


def test_files_outside_the_frontend_are_never_served(served: Served) -> None:
    server, _ = served
    port = int(server.url.rsplit(":", 1)[1])
    for path in ["/../README.md", "/%2e%2e/README.md", "/..%2fREADME.md", "/js/../../README.md"]:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.putrequest("GET", path, skip_accept_encoding=True)
        connection.endheaders()
        response = connection.getresponse()
        body = response.read()
        connection.close()
        assert response.status == 404 and b"Pumpd onboarding: resumable" not in body, path


def test_other_methods_and_media_types(served: Served) -> None:
    server, client = served
    auth = {"Authorization": f"Bearer local:{ORG}"}
    json_type = {"Content-Type": "application/json"}
    assert client.raw("TRACE", "/registration-batches", None, auth).status == 405
    plain = client.raw(
        "POST", "/registration-batches", "name=x", auth | {"Content-Type": "text/plain"}
    )
    assert plain.status == 415 and plain.body["error"] == "unsupported_media_type", plain
    broken = client.raw(
        "POST", "/registration-batches", "{", auth | {"Content-Type": "application/json"}
    )
    assert broken.status == 422 and broken.body["error"] == "validation_error", broken
    binary = client.raw("POST", "/registration-batches", b"\xff\xfe{", auth | json_type)
    assert binary.status == 422 and "UTF-8" in binary.body["message"], binary
    preflight = client.raw(
        "OPTIONS",
        "/registration-batches",
        None,
        {"Origin": server.url, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status == 204, preflight
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    assert preflight.headers["Access-Control-Allow-Origin"] == server.url


def test_make_serve_binds_127_0_0_1_on_port_and_stops_on_sigterm(tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    process = start_server(log)
    try:
        url = _wait_for_url(log, process)
        assert url.startswith("http://127.0.0.1:")
        client = HttpClient(url)
        assert client.get("/registration-batches", org="org-serve").body == {
            "batches": [],
            "next_cursor": None,
        }
        assert client.get("/registration-batches", org=None).status == 401
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0


def _wait_for_url(log: Path, process: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        url = url_in_log(log)
        if url:
            return url
        time.sleep(0.1)  # waiting for a subprocess to boot
    raise AssertionError(f"no URL in time: {log.read_text()}")


@pytest.mark.parametrize(
    "name", sorted(p.name for p in (PROJECT_ROOT / "events").glob("api-*.json"))
)
def test_the_sample_api_events_reach_their_routes(api: Api, name: str) -> None:
    # events/ are what `sam local invoke ApiFunction -e events/<name>` sends
    event: dict[str, Any] = json.loads((PROJECT_ROOT / "events" / name).read_text())
    result = handler(event, FakeLambdaContext(function_name="ApiFunction"))
    body = json.loads(result["body"])
    # their ids exist in no table here: each answers as its route would for a missing one
    expected = {"POST": 201, "GET": 200} if event["resource"] == "/registration-batches" else {}
    if event["resource"] == "/operations":
        expected = {"GET": 200}  # the org's (empty) list; a start names a missing batch: 404
    status = expected.get(event["httpMethod"], 404)
    assert result["statusCode"] == status, (name, body)
    if status == 404:
        assert body["error"] == "not_found" and "no route" not in body["message"], body
