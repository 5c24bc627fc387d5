"""The HTTP adapter of the platform port against a real local HTTP server."""

from __future__ import annotations

import json
import socket
import threading
import urllib.error
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from clients.http_platform import HttpPlatform
from clients.platform import (
    CallMeta,
    PermanentPlatformError,
    PlatformError,
    TransientPlatformError,
)
from clients.simulator import PlatformSimulator
from tests.unit.fakes import make_meta


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Reply:
    status: int = 200
    body: bytes = b'{"id": "obj-1", "attributes": {"k": "v"}}'
    # The handler waits for this event before answering (used to provoke client timeouts).
    hold: threading.Event | None = None


@dataclass
class FakePlatformServer:
    base_url: str
    requests: list[Recorded] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)
    # When set, answers every request instead of `replies`.
    app: Callable[[Recorded], tuple[int, dict[str, Any]]] | None = None

    def reply(self, status: int = 200, body: Any = None, *, raw: bytes | None = None) -> None:
        payload = raw if raw is not None else json.dumps(body or {"id": "obj-1"}).encode()
        self.replies.append(Reply(status=status, body=payload))


def _handler(server_state: FakePlatformServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            recorded = Recorded(
                method=self.command,
                path=self.path,
                headers={k.lower(): v for k, v in self.headers.items()},
                body=json.loads(raw) if raw else None,
            )
            server_state.requests.append(recorded)
            if server_state.app is not None:
                status, payload = server_state.app(recorded)
                reply = Reply(status=status, body=json.dumps(payload).encode())
            else:
                reply = server_state.replies.pop(0) if server_state.replies else Reply()
            if reply.hold is not None:
                reply.hold.wait(timeout=5)
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)
            except OSError:  # the client gave up (timeout test)
                pass

        do_GET = _handle  # noqa: N815 - BaseHTTPRequestHandler's naming
        do_POST = _handle  # noqa: N815

    return Handler


@pytest.fixture
def server() -> Iterator[FakePlatformServer]:
    state = FakePlatformServer(base_url="")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{httpd.server_address[1]}/"
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
    )
    thread.start()
    try:
        yield state
    finally:
        for reply in state.replies:
            if reply.hold is not None:
                reply.hold.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
def client(server: FakePlatformServer) -> HttpPlatform:
    return HttpPlatform(server.base_url, "test-key", timeout_s=2)


META = make_meta("job-7", "createOnboardingUser", "Café Āroha")


def call_onboarding(client: HttpPlatform) -> Any:
    return client.create_onboarding_user(META, email="owner@aroha.example", name="Café Āroha")


# ------------------------------------------------------------------ requests


def test_a_mutating_call_posts_json_with_the_contract_headers(
    server: FakePlatformServer, client: HttpPlatform
) -> None:
    # Given a platform answering with an object
    server.reply(200, {"id": "obu_1", "attributes": {"email": "owner@aroha.example"}})

    # When a sub-step calls it
    result = call_onboarding(client)

    # Then the request follows the contract and the answer becomes a PlatformResult
    [request] = server.requests
    assert (request.method, request.path) == ("POST", "/v1/create_onboarding_user")
    assert request.headers["idempotency-key"] == "job-7:createOnboardingUser"
    assert request.headers["authorization"] == "Bearer test-key"
    assert request.headers["x-job-id"] == "job-7"
    assert request.headers["x-sub-step"] == "createOnboardingUser"
    assert request.headers["content-type"] == "application/json"
    assert request.body == {
        "email": "owner@aroha.example",
        "name": "Café Āroha",
        "context": {
            "job_id": "job-7",
            "sub_step": "createOnboardingUser",
            "restaurant_name": "Café Āroha",
        },
    }
    assert result.id == "obu_1"
    assert result.attributes == {"email": "owner@aroha.example"}


def test_find_account_is_a_get_by_email(server: FakePlatformServer, client: HttpPlatform) -> None:
    server.reply(200, {"id": "acct_1"})

    result = client.find_account(META, email="o+wner@aroha.example")

    [request] = server.requests
    parts = urlsplit(request.path)
    assert (request.method, parts.path) == ("GET", "/v1/accounts")
    assert parse_qs(parts.query) == {"email": ["o+wner@aroha.example"]}
    assert "idempotency-key" not in request.headers
    assert request.headers["authorization"] == "Bearer test-key"
    assert result is not None
    assert (result.id, result.attributes) == ("acct_1", {})


def test_find_account_answers_none_on_404(server: FakePlatformServer, client: HttpPlatform) -> None:
    server.reply(404, {"message": "no such account"})
    assert client.find_account(META, email="nobody@aroha.example") is None


# ------------------------------------------------------------------ error mapping


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        pytest.param(400, PermanentPlatformError, id="400"),
        pytest.param(404, PermanentPlatformError, id="404-on-post"),
        pytest.param(409, PermanentPlatformError, id="409"),
        pytest.param(422, PermanentPlatformError, id="422"),
        pytest.param(408, TransientPlatformError, id="408"),
        pytest.param(429, TransientPlatformError, id="429"),
        pytest.param(500, TransientPlatformError, id="500"),
        pytest.param(503, TransientPlatformError, id="503"),
    ],
)
def test_statuses_map_to_transient_or_permanent_errors(
    server: FakePlatformServer,
    client: HttpPlatform,
    status: int,
    error_type: type[PlatformError],
) -> None:
    # Given a platform answering with an error status and a message
    server.reply(status, {"message": f"it went {status}"})

    # When a sub-step calls it
    with pytest.raises(error_type) as raised:
        call_onboarding(client)

    # Then the error names the operation, the status and the message, and keeps its cause
    assert f"HTTP {status}" in str(raised.value)
    assert f"it went {status}" in str(raised.value)
    assert "create_onboarding_user" in str(raised.value)
    assert isinstance(raised.value.__cause__, urllib.error.HTTPError)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        pytest.param(b'{"error": {"message": "nested"}}', "nested", id="nested-error"),
        pytest.param(b'{"error": "flat"}', "flat", id="flat-error"),
        pytest.param(b"<html>gateway</html>", "<html>gateway</html>", id="not-json"),
        pytest.param(b"", "(empty body)", id="empty"),
    ],
)
def test_error_messages_are_read_from_the_usual_shapes(
    server: FakePlatformServer, client: HttpPlatform, raw: bytes, message: str
) -> None:
    server.reply(409, raw=raw)
    with pytest.raises(PermanentPlatformError) as raised:
        call_onboarding(client)
    # the platform's words first, then which call and how it answered
    assert str(raised.value) == f"{message} (create_onboarding_user, HTTP 409)"
    assert raised.value.code is None


def test_the_platform_s_reason_code_is_kept(
    server: FakePlatformServer, client: HttpPlatform
) -> None:
    # given a platform that refuses with a machine-readable reason
    server.reply(422, raw=b'{"message": "this email is already registered", "code": "email_taken"}')
    with pytest.raises(PermanentPlatformError) as raised:
        call_onboarding(client)
    # then the error carries the code apart from the words
    assert raised.value.code == "email_taken"
    assert str(raised.value).startswith("this email is already registered")


def test_a_timeout_is_transient(server: FakePlatformServer) -> None:
    # Given a platform that does not answer within the client's timeout
    hold = threading.Event()
    server.replies.append(Reply(hold=hold))
    impatient = HttpPlatform(server.base_url, "test-key", timeout_s=0.1)

    # When a sub-step calls it
    with pytest.raises(TransientPlatformError) as raised:
        call_onboarding(impatient)
    hold.set()

    # Then the error is transient and caused by the timeout
    assert raised.value.__cause__ is not None
    assert "timed out" in str(raised.value).lower()


def test_a_refused_connection_is_transient() -> None:
    # Given an address nobody listens on (a port bound, then closed)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = HttpPlatform(f"http://127.0.0.1:{port}", "test-key", timeout_s=1)

    with pytest.raises(TransientPlatformError) as raised:
        call_onboarding(client)
    assert isinstance(raised.value.__cause__, (urllib.error.URLError, OSError))


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"not json", id="not-json"),
        pytest.param(b'{"attributes": {}}', id="no-id"),
        pytest.param(b"[1, 2]", id="not-an-object"),
    ],
)
def test_a_malformed_success_body_is_transient(
    server: FakePlatformServer, client: HttpPlatform, raw: bytes
) -> None:
    server.reply(200, raw=raw)
    with pytest.raises(TransientPlatformError, match="malformed"):
        call_onboarding(client)


def test_a_redirect_is_not_followed(server: FakePlatformServer, client: HttpPlatform) -> None:
    server.reply(307, {"message": "moved"})
    with pytest.raises(PermanentPlatformError, match="HTTP 307"):
        call_onboarding(client)
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    ("base_url", "api_key", "timeout_s"),
    [
        pytest.param("ftp://pumpd.example", "k", 1.0, id="scheme"),
        pytest.param("pumpd.example", "k", 1.0, id="no-scheme"),
        pytest.param("https://pumpd.example", "", 1.0, id="no-key"),
        pytest.param("https://pumpd.example", "k", 0.0, id="no-timeout"),
    ],
)
def test_bad_configuration_is_refused(base_url: str, api_key: str, timeout_s: float) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the messages differ per case
        HttpPlatform(base_url, api_key, timeout_s)


def test_the_base_url_may_carry_a_path(server: FakePlatformServer) -> None:
    client = HttpPlatform(server.base_url + "pumpd/", "test-key")
    server.reply(200, {"id": "x"})
    call_onboarding(client)
    assert server.requests[0].path == "/pumpd/v1/create_onboarding_user"


# ------------------------------------------------------------------ the contract end to end


def simulator_app(sim: PlatformSimulator) -> Callable[[Recorded], tuple[int, dict[str, Any]]]:
    """A minimal platform service implementing the documented contract over the simulator."""

    def app(request: Recorded) -> tuple[int, dict[str, Any]]:
        parts = urlsplit(request.path)
        job_id, sub_step = request.headers["x-job-id"], request.headers["x-sub-step"]
        try:
            if request.method == "GET":
                meta = CallMeta(job_id=job_id, sub_step=sub_step, restaurant_name="")
                email = parse_qs(parts.query)["email"][0]
                found = sim.find_account(meta, email=email)
                if found is None:
                    return 404, {"message": "no such account"}
                return 200, found.model_dump()
            params = dict(request.body)
            context = params.pop("context")
            meta = CallMeta(
                job_id=job_id, sub_step=sub_step, restaurant_name=context["restaurant_name"]
            )
            operation = parts.path.removeprefix("/v1/")
            return 200, getattr(sim, operation)(meta, **params).model_dump()
        except PermanentPlatformError as error:
            return 422, {"message": str(error)}
        except TransientPlatformError as error:
            return 503, {"message": str(error)}

    return app


def test_the_contract_round_trips_through_a_simulator_backed_service(
    server: FakePlatformServer, client: HttpPlatform
) -> None:
    # Given a service implementing the contract over the simulator
    sim = PlatformSimulator()
    server.app = simulator_app(sim)
    meta = make_meta("job-9", "cloudwaitressAccount")

    # When an account is looked up, created twice (a retry) and looked up again
    assert client.find_account(meta, email="owner@aroha.example") is None
    first = client.create_account(meta, email="owner@aroha.example", password="pw", name="A")
    again = client.create_account(meta, email="owner@aroha.example", password="pw", name="A")
    found = client.find_account(meta, email="owner@aroha.example")

    # Then the key made the retry harmless and the account is found
    assert first == again
    assert found is not None
    assert found.id == first.id
    [entry] = sim.ledger()
    assert (entry.idempotency_key, entry.count, entry.calls) == ("job-9:cloudwaitressAccount", 1, 2)

    # And a platform refusal arrives as a permanent error
    with pytest.raises(PermanentPlatformError, match="HTTP 422"):
        client.register_restaurant(
            make_meta("job-9", "restaurantRegistration"),
            account_id="acct_missing",
            name="A",
            phone=None,
            company={},
        )
