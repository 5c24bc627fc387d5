"""The local server's HTTP rules: concurrency and slow clients, malformed requests, duplicated
credentials, CORS, the simulator's controls, and how the API function is invoked."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest

from local.samples import restaurant_data
from local.server import MAX_BODY_BYTES, THREADS, LocalServer
from tests.api.conftest import ORG, OTHER_ORG, Api, HttpClient

pytestmark = pytest.mark.integration

FAST_ANSWER_S = 2.0


@dataclass
class RawReply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@pytest.fixture
def server(api: Api) -> Iterator[LocalServer]:
    """The local server on the test's runtime (so a test may stand in for the Lambda)."""
    with LocalServer(port=0, runtime=api.runtime, quiet=True) as server:
        yield server


def port_of(server: LocalServer) -> int:
    return int(server.url.rsplit(":", 1)[1])


def raw(server: LocalServer, request: bytes, method: str = "GET") -> RawReply:
    """Send these exact bytes; read one answer."""
    with socket.create_connection(("127.0.0.1", port_of(server)), timeout=30) as connection:
        connection.sendall(request)
        answer = http.client.HTTPResponse(connection, method=method)
        answer.begin()
        return RawReply(answer.status, answer.headers, answer.read())


def request_bytes(start_line: str, *headers: str, body: bytes = b"") -> bytes:
    lines = [start_line, "Host: 127.0.0.1", "Connection: close", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def timed_get(url: str, org: str) -> tuple[int, float]:
    started = time.monotonic()
    reply = HttpClient(url).get("/registration-batches", org=org)
    return reply.status, time.monotonic() - started


# ---------------------------------------------------------------------- concurrency


def test_forty_concurrent_posts_are_all_answered(server: LocalServer) -> None:
    # given 40 clients at once, each creating a batch
    client = HttpClient(server.url)

    def create(i: int) -> int:
        body = {"name": f"Batch {i}", "restaurants": [restaurant_data("Cafe Aroha")]}
        return client.post("/registration-batches", body, org=f"org-many-{i}").status

    # when they all POST together
    with ThreadPoolExecutor(max_workers=40) as pool:
        statuses = list(pool.map(create, range(40)))
    # then every one is answered (no reset, no refusal) and created its batch
    assert statuses == [201] * 40


def test_long_api_calls_do_not_hold_up_another_orgs_reads(
    server: LocalServer, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given API calls of one org that take as long as the test wants (a long Step 5)
    release = threading.Event()
    in_flight = threading.Condition()
    running = [0]
    invoke = api.runtime.lambdas.invoke

    def slow_for_org_slow(function: str, event: dict[str, Any]) -> tuple[Any, str | None]:
        claims = event["requestContext"].get("authorizer", {}).get("claims", {})
        if claims.get("custom:org_id") == "org-slow":
            with in_flight:
                running[0] += 1
                in_flight.notify_all()
            release.wait(timeout=60)
        return invoke(function, event)

    monkeypatch.setattr(api.runtime.lambdas, "invoke", slow_for_org_slow)
    long_calls = THREADS - 1
    with ThreadPoolExecutor(max_workers=long_calls) as pool:
        pending = [pool.submit(timed_get, server.url, "org-slow") for _ in range(long_calls)]
        try:
            with in_flight:
                assert in_flight.wait_for(lambda: running[0] == long_calls, timeout=30)
            # when another org lists its batches while all of them are in flight
            status, took = timed_get(server.url, OTHER_ORG)
        finally:
            release.set()
        # then it is answered at once, and so are the long calls in the end
        assert status == 200 and took < FAST_ANSWER_S, took
        assert [p.result(timeout=60)[0] for p in pending] == [200] * long_calls


def test_stalled_clients_do_not_hold_up_others(server: LocalServer) -> None:
    # given more stalled clients than worker threads: half a head, or a head and half a body
    stalled = []
    for i in range(THREADS + 4):
        connection = socket.create_connection(("127.0.0.1", port_of(server)), timeout=10)
        if i % 2:
            connection.sendall(b"GET /registration-batches HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        else:
            connection.sendall(
                request_bytes(
                    "POST /registration-batches HTTP/1.1",
                    "Content-Type: application/json",
                    "Content-Length: 100",
                    body=b'{"name": ',
                )
            )
        stalled.append(connection)
    try:
        # when another client asks for its batches
        status, took = timed_get(server.url, ORG)
        # then it is answered at once
        assert status == 200 and took < FAST_ANSWER_S, took
    finally:
        for connection in stalled:
            connection.close()


def test_a_stalled_client_is_disconnected_after_the_read_timeout(api: Api) -> None:
    # given a server whose read timeout is 1 s, and a client that sends half a request
    with (
        LocalServer(port=0, runtime=api.runtime, quiet=True, channel_timeout_s=1) as server,
        socket.create_connection(("127.0.0.1", port_of(server)), timeout=10) as connection,
    ):
        connection.sendall(b"GET /registration-batches HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        started = time.monotonic()
        # when it sends nothing more, then the server closes the connection (reads EOF)
        with contextlib.suppress(ConnectionResetError):
            assert connection.recv(1024) == b""
        assert time.monotonic() - started < 8


# ---------------------------------------------------------------------- malformed requests


MALFORMED = {
    "NUL in the path": (request_bytes("GET /%00 HTTP/1.1"), 400),
    "raw NUL in the path": (request_bytes("GET /\x00 HTTP/1.1"), 400),
    "NUL in an API path": (request_bytes("GET /registration-batches/%00 HTTP/1.1"), 400),
    "control character": (request_bytes("GET /a%0Ab HTTP/1.1"), 400),
    "bad percent-encoding": (request_bytes("GET /%zz HTTP/1.1"), 400),
    "truncated percent-encoding": (request_bytes("GET /registration-batches/% HTTP/1.1"), 400),
    "not UTF-8": (request_bytes("GET /%ff%fe HTTP/1.1"), 400),
    "not UTF-8 in the query": (request_bytes("GET /registration-batches?q=%c3 HTTP/1.1"), 400),
    "Content-Length not a number": (
        request_bytes("POST /registration-batches HTTP/1.1", "Content-Length: abc"),
        400,
    ),
    "negative Content-Length": (
        request_bytes("POST /registration-batches HTTP/1.1", "Content-Length: -1"),
        400,
    ),
    "two Content-Lengths": (
        request_bytes(
            "POST /registration-batches HTTP/1.1", "Content-Length: 2", "Content-Length: 3"
        ),
        400,
    ),
    "a body over the limit": (
        request_bytes(
            "POST /registration-batches HTTP/1.1", f"Content-Length: {MAX_BODY_BYTES + 1}"
        ),
        413,
    ),
    "unknown Transfer-Encoding": (
        request_bytes("POST /registration-batches HTTP/1.1", "Transfer-Encoding: gzip"),
        400,
    ),
    "not HTTP": (b"HELLO\r\n\r\n", 400),
    "a header without a colon": (request_bytes("GET / HTTP/1.1", "Nonsense"), 400),
}


@pytest.mark.parametrize(("request_sent", "status"), MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_request_answers_4xx_with_a_json_message(
    server: LocalServer, request_sent: bytes, status: int
) -> None:
    # given a malformed request, when it is sent
    reply = raw(server, request_sent)
    # then the answer is the expected 4xx, as JSON with a message (never a 5xx)
    assert reply.status == status, reply
    assert reply.headers["Content-Type"] == "application/json"
    assert reply.json()["message"], reply


def test_head_answers_a_static_file_without_its_body(server: LocalServer) -> None:
    # given the frontend's index
    index = (server.frontend / "index.html").read_bytes()
    # when HEAD asks for it
    reply = raw(server, request_bytes("HEAD / HTTP/1.1"), method="HEAD")
    # then it has GET's status and headers, and no body
    assert reply.status == 200 and reply.headers["Content-Type"].startswith("text/html")
    assert reply.headers["Content-Length"] == str(len(index))
    assert reply.body == b""


# ---------------------------------------------------------------------- credentials


def test_two_authorization_headers_answer_400(server: LocalServer) -> None:
    # given a request with two Authorization headers (the first would have won before)
    sent = request_bytes(
        "GET /registration-batches HTTP/1.1",
        f"Authorization: Bearer local:{ORG}",
        f"Authorization: Bearer local:{OTHER_ORG}",
    )
    # when it is sent, then it is refused as a bad request, saying why
    reply = raw(server, sent)
    assert reply.status == 400 and reply.json()["error"] == "invalid_credentials", reply
    assert "exactly one" in reply.json()["message"]


def test_one_authorization_header_with_two_tokens_answers_400(server: LocalServer) -> None:
    sent = request_bytes(
        "GET /registration-batches HTTP/1.1",
        f"Authorization: Bearer local:{ORG}, Bearer local:{OTHER_ORG}",
    )
    reply = raw(server, sent)
    assert reply.status == 400 and reply.json()["error"] == "invalid_credentials", reply


# ---------------------------------------------------------------------- CORS


def api_get(server: LocalServer, *headers: str) -> RawReply:
    auth = f"Authorization: Bearer local:{ORG}"
    return raw(server, request_bytes("GET /registration-batches HTTP/1.1", auth, *headers))


def test_the_api_allows_its_own_origin_only(server: LocalServer) -> None:
    # given the server's own origin, another site, and no Origin at all
    own = api_get(server, f"Origin: {server.url}")
    other = api_get(server, "Origin: https://evil.example")
    lookalike = api_get(server, f"Origin: {server.url}.evil.example")
    none = api_get(server)
    # then only its own origin is allowed to read the answers
    assert own.status == 200 and own.headers["Access-Control-Allow-Origin"] == server.url
    for reply in (other, lookalike, none):
        assert reply.status == 200
        assert not [h for h in reply.headers if h.lower().startswith("access-control-")]


def test_a_preflight_from_another_site_is_not_allowed(server: LocalServer) -> None:
    reply = raw(
        server,
        request_bytes(
            "OPTIONS /registration-batches HTTP/1.1",
            "Origin: https://evil.example",
            "Access-Control-Request-Method: POST",
        ),
        method="OPTIONS",
    )
    assert reply.status == 204
    assert "Access-Control-Allow-Origin" not in reply.headers


# ---------------------------------------------------------------------- the simulator's controls


def post_fault(server: LocalServer, fault: dict[str, Any], *headers: str) -> RawReply:
    body = json.dumps(fault).encode()
    sent = request_bytes(
        "POST /__sim/faults HTTP/1.1", *headers, f"Content-Length: {len(body)}", body=body
    )
    return raw(server, sent)


JSON = "Content-Type: application/json"
FAULT = {"sub_step": "menuImport", "mode": "fail"}


def faults(server: LocalServer) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (
        HttpClient(server.url).get("/__sim/faults", org=None).body["faults"]
    )
    return found


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ((), 415),
        (("Content-Type: text/plain",), 415),
        (("Content-Type: application/x-www-form-urlencoded",), 415),
        ((JSON, "Origin: https://evil.example"), 403),
        (("Content-Type: text/plain", "Origin: https://evil.example"), 403),
        ((JSON, "Origin: null"), 403),
        ((JSON, "Sec-Fetch-Site: cross-site"), 403),
        ((JSON, "Sec-Fetch-Site: same-site"), 403),
    ],
    ids=[
        "no type",
        "text/plain",
        "form",
        "other origin",
        "CSRF text/plain",
        "opaque origin",
        "cross-site",
        "same-site",
    ],
)
def test_a_fault_is_refused_unless_same_origin_json(
    server: LocalServer, headers: tuple[str, ...], status: int
) -> None:
    # given a fault sent other than as same-origin JSON, when it is posted
    reply = post_fault(server, FAULT, *headers)
    # then it is refused and nothing is installed
    assert reply.status == status, reply
    assert reply.json()["message"]
    assert faults(server) == []


def test_a_fault_from_the_servers_own_page_is_accepted(server: LocalServer) -> None:
    own = post_fault(server, FAULT, JSON, f"Origin: {server.url}", "Sec-Fetch-Site: same-origin")
    assert own.status == 201, own
    assert [f["sub_step"] for f in faults(server)] == ["menuImport"]


def test_the_controls_refuse_other_sites_everywhere(server: LocalServer) -> None:
    for method in ("GET /__sim/ledger", "GET /__sim/faults", "DELETE /__sim/faults"):
        reply = raw(server, request_bytes(f"{method} HTTP/1.1", "Origin: https://evil.example"))
        assert reply.status == 403, (method, reply)
    rebound = raw(
        server,
        b"GET /__sim/ledger HTTP/1.1\r\nHost: rebound.evil.example:3000\r\n"
        b"Connection: close\r\n\r\n",
    )
    assert rebound.status == 403, rebound


def test_a_fault_names_a_sub_step_of_the_catalogue(server: LocalServer) -> None:
    reply = post_fault(server, {"sub_step": "menuImportt", "mode": "fail"}, JSON)
    assert reply.status == 422, reply
    assert [f["field"] for f in reply.json()["fields"]] == ["sub_step"]
    assert "menuImport" in reply.json()["fields"][0]["message"]
    assert faults(server) == []


def test_a_fault_names_a_restaurant_and_a_job_that_exist(server: LocalServer) -> None:
    # given one batch created through the server
    client = HttpClient(server.url)
    created = client.create_batch(["Cafe Aroha"])
    job_id = created["jobs"][0]["job_id"]
    # when faults name a restaurant and a job no job has
    unknown = post_fault(
        server, FAULT | {"restaurant": "Cafe Nowhere", "job_id": "job-nowhere"}, JSON
    )
    # then they are refused, naming both fields
    assert unknown.status == 422, unknown
    assert sorted(f["field"] for f in unknown.json()["fields"]) == ["job_id", "restaurant"]
    # and the ones that exist are accepted
    assert post_fault(server, FAULT | {"restaurant": "Cafe Aroha"}, JSON).status == 201
    assert post_fault(server, FAULT | {"job_id": job_id}, JSON).status == 201
    assert len(faults(server)) == 2


# ---------------------------------------------------------------------- the API function


def test_the_api_function_is_invoked_through_the_runtime(
    server: LocalServer, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an API function that fails (the Lambda service reports an error type)
    events: list[dict[str, Any]] = []

    def failing(function: str, event: dict[str, Any]) -> tuple[Any, str | None]:
        events.append(event)
        return {"errorType": "Runtime.ExitError", "errorMessage": "died"}, "Runtime.ExitError"

    monkeypatch.setattr(api.runtime.lambdas, "invoke", failing)
    # when a request reaches it
    reply = HttpClient(server.url).get("/registration-batches?limit=5")
    # then the server answers as API Gateway does, after invoking it with the proxy event
    assert reply.status == 502 and reply.body == {"message": "Internal server error"}
    assert [e["path"] for e in events] == ["/registration-batches"]
    assert events[0]["queryStringParameters"] == {"limit": "5"}
    assert events[0]["requestContext"]["authorizer"]["claims"]["custom:org_id"] == ORG
