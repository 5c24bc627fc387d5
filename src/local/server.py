"""`make serve`: the HTTP API on this machine, with the same paths as API Gateway.

A WSGI application served by waitress (`waitress.create_server`):

- Binds 127.0.0.1, port `PORT` (default 3000; 0 picks a free one), and prints its URL.
- Starts a `LocalRuntime` (moto + the real ASL + the real handlers), so Step 6 executions
  run in the background as on AWS and their status-change events reach the reconciler.
- Turns each request under `/registration-batches` into an API Gateway REST proxy event and
  invokes `ApiFunction` through the runtime (`runtime.lambdas.invoke`); a failed invocation
  answers 502 `{"message": "Internal server error"}`, as API Gateway does. Local auth:
  `Authorization: Bearer local:<org_id>` fills the authorizer's `custom:org_id` claim, as
  the Cognito authorizer does on AWS; no or other credentials answer 401, two
  `Authorization` headers 400. CORS: only the server's own origin is ever allowed.
- Serves `frontend/` at `/` (static files, GET and HEAD).
- Local mode only, never deployed: the simulator's controls (docs/architecture.md §9),
  `POST /__sim/faults`, `DELETE /__sim/faults`, `GET /__sim/faults`, `GET /__sim/ledger`;
  `GET /__sim/sites` (the sample restaurant websites Step 1 reads), `GET /__sim/registers/ledger`,
  `POST|GET|DELETE /__sim/registers/faults` (the directory and register's faults);
  same-origin requests only, a JSON body, sub-steps of the catalogue, known jobs.
- Malformed requests answer 4xx with a JSON body (waitress's own error pages included).
- SIGTERM or SIGINT (Ctrl-C) stops it, and every process it started, within 5 s.
"""

from __future__ import annotations

import base64
import contextlib
import gc
import json
import mimetypes
import os
import re
import signal
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from urllib.parse import parse_qs, unquote, unquote_to_bytes, urlsplit

import boto3
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import create_server
from waitress.task import ErrorTask

from clients.simulator import FaultSpec, PlatformSimulator
from domain.catalogue import SUB_STEP_NAMES
from handlers import wiring
from handlers.settings import get_settings
from local.runtime import (
    LocalRuntime,
    PlatformKind,
    TableEngine,
    platform_from_env,
    table_engine_from_env,
)
from local.serial_dynamodb import serialise_dynamodb_requests
from local.site_server import SAMPLE_SITES
from local.template import FAKE_ACCOUNT, PROJECT_ROOT, Template
from state.errors import NotFoundError
from state.repository import RESTAURANT_SK

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment
    from waitress.server import BaseWSGIServer, MultiSocketServer

API_PREFIX = "/registration-batches"
# Every path the API serves starts with one of these: the first segments of the ApiFunction's
# routes in template.yaml (registration-batches, operations, failures).
API_PREFIXES = tuple(sorted({"/" + p.split("/")[1] for p in Template.load().api_paths()}))
SIM_PREFIX = "/__sim/"


FaultT = TypeVar("FaultT", bound=BaseModel)


def _fault_body(request: Request, model: type[FaultT]) -> FaultT | Response:
    """A fault from a JSON body, or the 415/422 answer that refuses it."""
    content_type = (request.header("Content-Type") or "").split(";")[0].strip().lower()
    if content_type != "application/json":
        return error_response(415, "unsupported_media_type", "send the fault as `application/json`")
    try:
        return model.model_validate_json(request.body or b"{}")
    except ValidationError as error:
        fields = [
            {"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"]}
            for e in error.errors()
        ]
        return error_response(422, "validation_error", "invalid fault", fields=fields)


class RegisterFaultSpec(BaseModel):
    """A fault of the directory or company register (`POST /__sim/registers/faults`)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    operation: Literal["search", "details", "lookup"]
    mode: Literal["fail", "transient", "latency"]
    times: int = Field(default=1, ge=1, le=1_000)
    query: str | None = Field(default=None, max_length=200)
    latency_ms: int = Field(default=0, ge=0, le=60_000)


API_FUNCTION = "ApiFunction"
FRONTEND_DIR = PROJECT_ROOT / "frontend"
MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
# `Bearer local:<org_id>` or `Bearer local:<org_id>:<user>` (the actor; `local-user` if none).
BEARER = re.compile(r"^Bearer\s+local:([A-Za-z0-9_.-]{1,64})(?::([A-Za-z0-9_.@+-]{1,128}))?$")
LOCAL_USER = "local-user"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# Worker threads: each request holds one for as long as its Lambda runs, and a Step 5 for
# hundreds of jobs can take a minute. 16 leaves room for a dozen such calls while the page's
# polling and other orgs' reads are still answered at once; reading requests and writing
# answers happen on waitress's event loop, not on workers, so idle or slow clients hold none.
THREADS = 16
# Connections waiting to be accepted (the kernel caps it at net.core.somaxconn).
BACKLOG = 1024
# Open connections at once; beyond it waitress stops accepting (they wait in the backlog).
CONNECTION_LIMIT = 256
# A connection with no complete request and no activity for this long is closed.
CHANNEL_TIMEOUT_S = 30
# How long stop() waits for requests still running before it lets them go.
STOP_GRACE_S = 1
# `python -m local.server`: after a signal, exit within this long, cleanly or not.
SHUTDOWN_DEADLINE_S = 4.0

# Response headers a WSGI application must not set (the server owns the connection).
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "content-length",
    }
)
BAD_PERCENT = re.compile(rb"%(?![0-9A-Fa-f]{2})")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")

PLACEHOLDER = b"""<!doctype html><meta charset="utf-8"><title>Pumpd onboarding (local)</title>
<p>The frontend is not built yet (no <code>frontend/</code> directory). The API is at
<code>/registration-batches</code>; send <code>Authorization: Bearer local:&lt;org_id&gt;</code>.
"""


def org_from_authorization(value: str | None) -> tuple[str | None, str]:
    """The org of a local bearer token, or None and why it was refused."""
    if not value:
        return None, "missing credentials: send the header `Authorization: Bearer local:<org_id>`"
    match = BEARER.match(value.strip())
    if match is None:
        return None, "invalid credentials: expected `Authorization: Bearer local:<org_id>`"
    return match.group(1), ""


def user_from_authorization(value: str | None) -> str:
    """The user a local bearer token names (after its org), or `local-user`."""
    match = BEARER.match((value or "").strip())
    return (match.group(2) if match else None) or LOCAL_USER


def proxy_event(
    method: str,
    raw_path: str,
    headers: dict[str, str],
    body: bytes,
    org_id: str | None,
    user: str = LOCAL_USER,
) -> dict[str, Any]:
    """An API Gateway REST (v1) proxy event, as API Gateway builds it after the authorizer."""
    split = urlsplit(raw_path)
    path = unquote(split.path)
    query = parse_qs(split.query, keep_blank_values=True)
    try:
        text: str | None = body.decode("utf-8") if body else None
        encoded = False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode("ascii"), True
    request_id = str(uuid.uuid4())
    context: dict[str, Any] = {
        "resourcePath": path,
        "httpMethod": method,
        "path": f"/local{path}",
        "stage": "local",
        "accountId": FAKE_ACCOUNT,
        "apiId": "local",
        "requestId": request_id,
        "protocol": "HTTP/1.1",
        "identity": {"sourceIp": "127.0.0.1", "userAgent": headers.get("User-Agent", "")},
    }
    if org_id is not None:
        # As Cognito's ID token carries them: the user's name, and an email when it is one.
        claims = {
            "sub": f"local-{org_id}",
            "custom:org_id": org_id,
            "token_use": "id",
            "cognito:username": user,
        }
        if "@" in user:
            claims["email"] = user
        context["authorizer"] = {"claims": claims}
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": context,
        "body": text,
        "isBase64Encoded": encoded,
    }


# ---------------------------------------------------------------------- requests and answers


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)


def json_response(
    status: int, payload: Any, headers: list[tuple[str, str]] | None = None
) -> Response:
    body = json.dumps(payload, default=str).encode()
    return Response(status, body, [("Content-Type", "application/json"), *(headers or [])])


def error_response(status: int, error: str, message: str, **extra: Any) -> Response:
    return json_response(
        status, {"statusCode": status, "error": error, "message": message, **extra}
    )


class RefusedError(Exception):
    """A request answered with a 4xx before it reaches a route."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.response = error_response(status, error, message)


@dataclass(frozen=True)
class Request:
    method: str
    target: str  # the request target as sent (path and query, percent-encoded)
    path: str  # the target's path, still percent-encoded (routing)
    decoded_path: str  # the path, percent-decoded (static files)
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.title())

    @staticmethod
    def from_environ(environ: WSGIEnvironment) -> Request:
        method = str(environ["REQUEST_METHOD"]).upper()
        target = _checked_target(str(environ.get("REQUEST_URI") or environ.get("PATH_INFO", "/")))
        path = urlsplit(target).path or "/"
        headers = {
            key[5:].replace("_", "-").title(): str(value)
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                headers[key.replace("_", "-").title()] = str(environ[key])
        # waitress has checked Content-Length and the size, and holds the whole body.
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        return Request(method, target, path, unquote(path), headers, body)


def _checked_target(raw: str) -> str:
    """The request target, refused (400) unless its percent-encoding decodes to UTF-8 text
    without control characters."""
    data = raw.encode("latin-1")  # WSGI carries the bytes sent as latin-1
    if BAD_PERCENT.search(data):
        raise RefusedError(400, "bad_request", "malformed percent-encoding in the URL")
    try:
        target = data.decode("utf-8")
        decoded = unquote_to_bytes(data).decode("utf-8")
    except UnicodeDecodeError:
        raise RefusedError(400, "bad_request", "the URL does not decode to UTF-8") from None
    if CONTROL.search(decoded):
        raise RefusedError(400, "bad_request", "control characters (such as NUL) in the URL")
    return target


def _authorization(value: str | None) -> tuple[str | None, Response | None]:
    """The caller's org, or the answer that refuses the request."""
    if value and "," in value:
        # Duplicated headers reach a WSGI application joined by ", "; no token has a comma.
        return None, error_response(
            400,
            "invalid_credentials",
            "send exactly one `Authorization: Bearer local:<org_id>` header with one token",
        )
    org, refusal = org_from_authorization(value)
    if org is None:
        return None, error_response(401, "unauthorized", refusal)
    return org, None


# ---------------------------------------------------------------------- the application


class LocalApp:
    """The WSGI application: the API, the simulator's controls and the frontend."""

    def __init__(self, server: LocalServer) -> None:
        self.server = server

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        started = time.monotonic()
        method = str(environ.get("REQUEST_METHOD", ""))
        try:
            request = Request.from_environ(environ)
            response = self.respond(request)
        except RefusedError as refused:
            response = refused.response
        except Exception:  # noqa: BLE001 - as API Gateway: a crash is a 502, the server lives on
            traceback.print_exc(file=sys.stderr)
            response = json_response(502, {"message": "Internal server error"})
        headers = [(k, v) for k, v in response.headers if not CONTROL.search(k + v)]
        headers.append(("Content-Length", str(len(response.body))))
        start_response(_status_line(response.status), headers)
        if not self.server.quiet:
            elapsed_ms = (time.monotonic() - started) * 1000
            target = str(environ.get("REQUEST_URI", ""))[:200]
            print(
                f'{environ.get("REMOTE_ADDR", "-")} "{method} {target}" '
                f"{response.status} {elapsed_ms:.0f}ms",
                file=sys.stderr,
                flush=True,
            )
        return [b"" if method == "HEAD" else response.body]

    def respond(self, request: Request) -> Response:
        if request.method not in METHODS:
            return error_response(405, "method_not_allowed", f"{request.method} is not supported")
        path = request.path
        if path.startswith(SIM_PREFIX):
            return self.simulator(request)
        if any(path == prefix or path.startswith(prefix + "/") for prefix in API_PREFIXES):
            return self.api(request)
        if request.method in ("GET", "HEAD"):
            return self.static(request.decoded_path)
        return error_response(404, "not_found", f"no route for {request.method} {path}")

    # ------------------------------------------------------------------ the API

    def api(self, request: Request) -> Response:
        org: str | None = None
        if request.method != "OPTIONS":  # CORS preflights carry no token (as on API Gateway)
            org, refusal = _authorization(request.header("Authorization"))
            if refusal is not None:
                return refusal
        user = user_from_authorization(request.header("Authorization"))
        event = proxy_event(
            request.method, request.target, request.headers, request.body, org, user
        )
        runtime = self.server.runtime
        assert runtime is not None, "start() first"
        result, error_type = runtime.lambdas.invoke(API_FUNCTION, event)
        if error_type is not None:
            print(f"{API_FUNCTION} failed ({error_type}): {result}", file=sys.stderr)
            return json_response(502, {"message": "Internal server error"})
        raw = result.get("body") or ""
        body = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode()
        headers = _lambda_headers(result)
        if not any(name.lower() == "content-type" for name, _ in headers):
            headers.append(("Content-Type", "application/json"))
        return Response(int(result["statusCode"]), body, self._cors(request, headers))

    def _cors(self, request: Request, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """Only the server's own origin may read the API from a browser (the deployed API's
        `*` is for the deployed frontend's sake, not for every page a developer visits)."""
        kept = [(k, v) for k, v in headers if not k.lower().startswith("access-control-")]
        origin = request.header("Origin")
        if origin is None or origin not in self.server.origins:
            return kept
        cors = [(k, v) for k, v in headers if k.lower().startswith("access-control-")]
        cors = [(k, v) for k, v in cors if k.lower() != "access-control-allow-origin"]
        return [*kept, *cors, ("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]

    @staticmethod
    def known_restaurant(name: str) -> bool:
        """Does any job (of any org, made any way) have this restaurant? Read from the table,
        not remembered. A plain Scan here, in local-only code: no deployed function may hold
        Scan (least privilege), so the repository has no such method."""
        scan = boto3.client("dynamodb").get_paginator("scan")
        for page in scan.paginate(TableName=get_settings().table_name):
            for item in page["Items"]:
                restaurant = item.get("restaurant", {}).get("M", {})
                if item["sk"] == {"S": RESTAURANT_SK} and restaurant.get("name") == {"S": name}:
                    return True
        return False

    # ------------------------------------------------------------------ the simulator

    def simulator(self, request: Request) -> Response:
        self._same_origin_only(request)
        runtime = self.server.runtime
        assert runtime is not None, "start() first"
        simulator = runtime.simulator
        route = (request.method, request.path.rstrip("/"))
        if route == ("POST", "/__sim/faults"):
            spec = _fault_body(request, FaultSpec)
            if isinstance(spec, Response):
                return spec
            problems = self._unknown_targets(spec)
            if problems:
                return error_response(422, "validation_error", "invalid fault", fields=problems)
            simulator.add_fault(spec)
            return json_response(201, {"fault": spec.model_dump(), "faults": _faults(simulator)})
        if route == ("DELETE", "/__sim/faults"):
            simulator.clear_faults()
            return json_response(200, {"faults": []})
        if route == ("GET", "/__sim/faults"):
            return json_response(200, {"faults": _faults(simulator)})
        if route == ("GET", "/__sim/ledger"):
            return json_response(200, {"effects": [e.model_dump() for e in simulator.ledger()]})
        if route == ("GET", "/__sim/sites"):
            sites = [
                {"slug": slug, "url": runtime.sites.url(slug), "description": description}
                for slug, description in SAMPLE_SITES.items()
            ]
            return json_response(200, {"sites": sites})
        if route == ("GET", "/__sim/registers/ledger"):
            return json_response(200, {"lookups": runtime.registers.ledger()})
        if route == ("GET", "/__sim/registers/faults"):
            return json_response(200, {"faults": runtime.registers.faults()})
        if route == ("DELETE", "/__sim/registers/faults"):
            runtime.registers.clear_faults()
            return json_response(200, {"faults": []})
        if route == ("POST", "/__sim/registers/faults"):
            fault = _fault_body(request, RegisterFaultSpec)
            if isinstance(fault, Response):
                return fault
            runtime.registers.inject(
                fault.operation,
                fault.mode,
                times=fault.times,
                query=fault.query,
                latency_ms=fault.latency_ms,
            )
            return json_response(201, {"faults": runtime.registers.faults()})
        return error_response(
            404, "not_found", f"no simulator route for {request.method} {request.path}"
        )

    def _same_origin_only(self, request: Request) -> None:
        """The controls change what every run does: no other site may use them (a page a
        developer visits could otherwise POST a `text/plain` fault, or read the ledger through
        a DNS-rebound name)."""
        origin = request.header("Origin")
        if origin is not None and origin not in self.server.origins:
            raise RefusedError(403, "forbidden", f"cross-origin requests ({origin}) are refused")
        fetch_site = request.header("Sec-Fetch-Site")
        if fetch_site is not None and fetch_site not in ("same-origin", "none"):
            raise RefusedError(403, "forbidden", f"{fetch_site} requests are refused")
        host = request.header("Host")
        if host is not None and urlsplit(f"//{host}").hostname not in self.server.hostnames:
            raise RefusedError(403, "forbidden", f"requests for host {host!r} are refused")

    def _unknown_targets(self, spec: FaultSpec) -> list[dict[str, str]]:
        problems: list[dict[str, str]] = []
        if spec.sub_step not in SUB_STEP_NAMES:
            problems.append(
                {
                    "field": "sub_step",
                    "message": f"unknown sub-step; one of {', '.join(SUB_STEP_NAMES)}",
                }
            )
        if spec.restaurant is not None and not self.known_restaurant(spec.restaurant):
            problems.append(
                {
                    "field": "restaurant",
                    "message": "no job has this restaurant (names match exactly)",
                }
            )
        if spec.job_id is not None:
            try:
                wiring.api_deps().jobs.get_job(spec.job_id)
            except NotFoundError:
                problems.append({"field": "job_id", "message": "no such job"})
        return problems

    # ------------------------------------------------------------------ the frontend

    def static(self, path: str) -> Response:
        root = self.server.frontend.resolve()
        if not root.is_dir():
            if path == "/":
                return Response(200, PLACEHOLDER, [("Content-Type", "text/html; charset=utf-8")])
            return error_response(
                404, "not_found", f"no file {path} (frontend/ does not exist yet)"
            )
        target = (root / path.lstrip("/")).resolve()
        if target.is_dir():
            target = target / "index.html"
        if not target.is_relative_to(root) or not target.is_file():
            return error_response(404, "not_found", f"no file {path}")
        content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type.endswith(("javascript", "json")):
            content_type += "; charset=utf-8"
        headers = [("Content-Type", content_type), ("Cache-Control", "no-cache")]
        return Response(200, target.read_bytes(), headers)


def _lambda_headers(result: dict[str, Any]) -> list[tuple[str, str]]:
    """A proxy result's headers, merged as API Gateway merges `headers` and
    `multiValueHeaders` (the latter win for a name in both)."""
    multi: dict[str, Any] = result.get("multiValueHeaders") or {}
    multi_names = {name.lower() for name in multi}
    headers = [
        (str(k), str(v))
        for k, v in (result.get("headers") or {}).items()
        if k.lower() not in multi_names
    ]
    headers += [(str(k), str(v)) for k, values in multi.items() for v in values]
    return [(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP]


def _status_line(status: int) -> str:
    from http import HTTPStatus

    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def _faults(simulator: PlatformSimulator) -> list[dict[str, Any]]:
    return [f.model_dump() for f in simulator.faults()]


# ---------------------------------------------------------------------- waitress's own answers


class _JsonErrorTask(ErrorTask):
    """waitress's answers to requests it cannot parse (bad Content-Length, a body over the
    limit, bad headers), as JSON like every other answer, and never 5xx: it is the request
    that is wrong."""

    def execute(self) -> None:
        parsed: Any = self.request  # the stubs say Error; it is the request parser
        error = parsed.error
        code = int(error.code)
        if code == 501:  # a Transfer-Encoding other than chunked
            code = 400
        name = {413: "payload_too_large", 431: "headers_too_large"}.get(code, "bad_request")
        if code >= 500:
            name = "internal_error"
        message = str(error.body)
        if code == 413:
            message = f"the body exceeds {MAX_BODY_BYTES} bytes"
        body = json.dumps({"statusCode": code, "error": name, "message": message}).encode()
        self.status = _status_line(code)
        headers: Any = self.response_headers  # a list (the stubs say Sequence)
        headers.append(("Content-Type", "application/json"))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class _Channel(HTTPChannel):
    error_task_class = _JsonErrorTask


# ---------------------------------------------------------------------- the server


@dataclass
class LocalServer:
    port: int = 3000
    host: str = "127.0.0.1"
    runtime: LocalRuntime | None = None
    # The runtime the server starts when it is given none: its table's engine, what stands
    # behind the platform's front door, and how long its idle function processes stay warm.
    table_engine: TableEngine = "moto"
    platform: PlatformKind = "simulator"
    worker_idle_s: float = 60.0
    prewarm: bool = False
    frontend: Path = FRONTEND_DIR
    quiet: bool = False
    threads: int = THREADS
    channel_timeout_s: int = CHANNEL_TIMEOUT_S
    _owns_runtime: bool = field(default=False, init=False)
    _server: BaseWSGIServer | MultiSocketServer | None = field(default=None, init=False)
    _map: dict[int, Any] = field(default_factory=dict, init=False)
    _bound_port: int = field(default=0, init=False)
    _thread: threading.Thread | None = field(default=None, init=False)
    _stopping: threading.Event = field(default_factory=threading.Event, init=False)
    _undo_serial: Callable[[], None] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        assert self._server is not None, "start() first"
        return f"http://{self.host}:{self._bound_port}"

    @property
    def origins(self) -> frozenset[str]:
        """The origins of this server's own pages (its address, or `localhost`)."""
        return frozenset(f"http://{name}:{self._bound_port}" for name in self.hostnames)

    @property
    def hostnames(self) -> frozenset[str]:
        """The names it is reached by (a DNS-rebound name is none of them)."""
        return frozenset({self.host, "localhost"})

    def start(self) -> LocalServer:
        if self.runtime is None:
            self.runtime = LocalRuntime(
                table_engine=self.table_engine,
                platform=self.platform,
                worker_idle_s=self.worker_idle_s,
                prewarm=self.prewarm,
            ).start()
            self._owns_runtime = True
        if self.runtime.isolation == "thread":
            # The handlers run on this process's threads, on moto in process: keep its
            # DynamoDB atomic (built now, before any request or execution uses them). Apart,
            # the moto server serialises its requests itself.
            self._undo_serial = serialise_dynamodb_requests(
                wiring.api_deps().jobs, wiring.step6_deps().jobs
            )
        server = create_server(
            LocalApp(self),
            map=self._map,
            host=self.host,
            port=self.port,
            threads=self.threads,
            backlog=BACKLOG,
            connection_limit=CONNECTION_LIMIT,
            channel_timeout=self.channel_timeout_s,
            cleanup_interval=min(30, self.channel_timeout_s),
            max_request_body_size=MAX_BODY_BYTES + 1,  # waitress refuses >= its limit
            asyncore_use_poll=True,  # no select(): any number of descriptors
            ident="pumpd-local",
            expose_tracebacks=False,
        )
        server.channel_class = _Channel  # type: ignore[union-attr]
        self._server = server
        self._bound_port = int(server.effective_port)  # type: ignore[union-attr]
        self._thread = threading.Thread(target=self._loop, name="local-api", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        # One poll at a time, so stop() is noticed within a pull of the trigger.
        while not self._stopping.is_set():
            wasyncore.loop(timeout=1.0, use_poll=True, map=self._map, count=1)

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            self._stopping.set()
            server.pull_trigger()  # type: ignore[union-attr]
            if self._thread is not None:
                self._thread.join(timeout=5)
            # Requests still running get a moment; their workers are daemon threads.
            server.task_dispatcher.shutdown(timeout=STOP_GRACE_S)
            wasyncore.close_all(self._map)
        if self._undo_serial is not None:
            self._undo_serial()
            self._undo_serial = None
        if self._owns_runtime and self.runtime is not None:
            self.runtime.stop()
            self.runtime = None
            self._owns_runtime = False

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


# ---------------------------------------------------------------------- python -m local.server


class _Signals:
    """SIGTERM and SIGINT, made safe. CPython's own C handler writes each signal's number to a
    wakeup pipe (`signal.set_wakeup_fd`), whichever thread the kernel delivered it to; a
    thread of ours reads that pipe, releases the main thread on the first signal and exits at
    once on a second. No lock is taken in a signal handler, and nothing depends on the main
    thread being interruptible where it waits (a hung shutdown blocked in a lock is not)."""

    def __init__(self) -> None:
        self._read, self._write = os.pipe()
        os.set_blocking(self._write, False)
        self.received = 0
        self._first = threading.Event()

    def install(self) -> _Signals:
        signal.set_wakeup_fd(self._write, warn_on_full_buffer=False)
        # A Python-level handler makes CPython catch the signal (and write it to the pipe);
        # what it does is the watcher's job, so the handler itself does nothing.
        signal.signal(signal.SIGTERM, self._noted)
        signal.signal(signal.SIGINT, self._noted)
        threading.Thread(target=self._watch, name="signals", daemon=True).start()
        return self

    @staticmethod
    def _noted(signum: int, frame: FrameType | None) -> None:
        pass

    def _watch(self) -> None:
        while True:
            signum = os.read(self._read, 1)[0]
            self.received += 1
            if self.received > 1:
                os.write(2, b"second signal: exiting now\n")
                _force_exit(128 + signum)
            self._first.set()

    def wait(self) -> None:
        self._first.wait()


def _children() -> list[Any]:
    import psutil

    try:
        return list(psutil.Process().children(recursive=True))
    except psutil.Error:
        return []


def _stop_children(grace_s: float) -> None:
    """Terminate the processes this one started (and theirs); kill what outlives `grace_s`."""
    import psutil

    children = _children()
    for child in children:
        with contextlib.suppress(psutil.Error):
            child.terminate()
    _, alive = psutil.wait_procs(children, timeout=grace_s)
    for child in alive:
        with contextlib.suppress(psutil.Error):
            child.kill()
    psutil.wait_procs(alive, timeout=grace_s)


def _force_exit(code: int) -> None:
    import psutil

    for child in _children():
        with contextlib.suppress(psutil.Error):
            child.kill()
    os._exit(code)


# A long-lived emulator's collector: see `_quiet_gc`.
GC_THRESHOLDS = (10_000, 20, 100)


def _quiet_gc() -> None:
    """This process holds moto's whole state (every execution and its history) and serves
    every function's AWS calls from many threads. With the default thresholds a full
    collection over that heap took 0.5 to 0.9 s every few seconds during a 200-job batch,
    stalling every request in flight (another org's read included). What is alive once the
    server has started is frozen (never scanned again) and full collections are made rarer;
    what they would find is small next to the heap that made them slow."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def main() -> int:
    port = int(os.environ.get("PORT", "3000"))
    signals = _Signals().install()  # before anything starts: a signal during start counts
    server = LocalServer(
        port=port,
        table_engine=table_engine_from_env(),
        platform=platform_from_env(),
        worker_idle_s=float(os.environ.get("LOCAL_WORKER_IDLE_S", "60")),
        prewarm=True,
    )
    try:
        server.start()
        _quiet_gc()
        print(f"Pumpd onboarding API on {server.url}  (Authorization: Bearer local:<org_id>)")
        print(f"frontend: {server.url}/   simulator: {server.url}/__sim/ledger   Ctrl-C stops")
        print(f"sample restaurant websites (Steps 1-4): {server.url}/__sim/sites")
        sys.stdout.flush()
        signals.wait()
        print("stopping", flush=True)
    finally:
        # Whatever happens while stopping, the process is gone within the deadline.
        watchdog = threading.Timer(SHUTDOWN_DEADLINE_S, _force_exit, args=(1,))
        watchdog.daemon = True
        watchdog.start()
        server.stop()
        _stop_children(grace_s=1.0)
        watchdog.cancel()
    return 0


if __name__ == "__main__":
    sys.exit(main())
