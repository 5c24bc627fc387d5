"""`make serve`: the HTTP API on this machine, with the same paths as API Gateway.

- Binds 127.0.0.1, port `PORT` (default 3000; 0 picks a free one).
- Starts a `LocalRuntime` (moto + the real ASL + the real handlers), so Step 6 executions
  run in the background as on AWS and their status-change events reach the reconciler.
- Turns each request under `/registration-batches` into an API Gateway REST proxy event and
  calls the handler `template.yaml` names for `ApiFunction`. Local auth:
  `Authorization: Bearer local:<org_id>` fills the authorizer's `custom:org_id` claim, as
  the Cognito authorizer does on AWS; no or other credentials answer 401.
- Serves `frontend/` at `/` (static files).
- Local mode only, never deployed: the simulator's controls (docs/architecture.md §9),
  `POST /__sim/faults`, `DELETE /__sim/faults`, `GET /__sim/faults`, `GET /__sim/ledger`.
"""

from __future__ import annotations

import base64
import json
import mimetypes
import os
import re
import signal
import sys
import threading
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from pydantic import ValidationError

from clients.simulator import FaultSpec, shared_simulator
from handlers import wiring
from local.lambdas import FakeLambdaContext
from local.runtime import LocalRuntime
from local.serial_dynamodb import serialise_dynamodb_requests
from local.template import FAKE_ACCOUNT, PROJECT_ROOT

API_PREFIX = "/registration-batches"
SIM_PREFIX = "/__sim/"
API_FUNCTION = "ApiFunction"
FRONTEND_DIR = PROJECT_ROOT / "frontend"
MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
BEARER = re.compile(r"^Bearer\s+local:([A-Za-z0-9_.-]{1,64})$")

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


def proxy_event(
    method: str, raw_path: str, headers: dict[str, str], body: bytes, org_id: str | None
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
        context["authorizer"] = {
            "claims": {"sub": f"local-{org_id}", "custom:org_id": org_id, "token_use": "id"}
        }
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


@dataclass
class LocalServer:
    port: int = 3000
    host: str = "127.0.0.1"
    runtime: LocalRuntime | None = None
    frontend: Path = FRONTEND_DIR
    quiet: bool = False
    _owns_runtime: bool = field(default=False, init=False)
    _httpd: ThreadingHTTPServer | None = field(default=None, init=False)
    _thread: threading.Thread | None = field(default=None, init=False)
    _undo_serial: Callable[[], None] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        assert self._httpd is not None, "start() first"
        return f"http://{self.host}:{self._httpd.server_address[1]}"

    def start(self) -> LocalServer:
        if self.runtime is None:
            self.runtime = LocalRuntime().start()
            self._owns_runtime = True
        # Requests are served on threads while executions run: keep moto's DynamoDB atomic.
        # (Built now, before any request or execution uses them.)
        self._undo_serial = serialise_dynamodb_requests(
            wiring.api_deps().jobs, wiring.step6_deps().jobs
        )
        handler = self.runtime.lambdas.handler_for(API_FUNCTION)  # type: ignore[union-attr]
        server = self

        class Handler(_RequestHandler):
            api = staticmethod(handler)
            config = server

        self._httpd = ThreadingHTTPServer((self.host, self.port), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="local-api", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._undo_serial is not None:
            self._undo_serial()
        if self._owns_runtime and self.runtime is not None:
            self.runtime.stop()

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


class _RequestHandler(BaseHTTPRequestHandler):
    api: Any
    config: LocalServer
    protocol_version = "HTTP/1.1"
    server_version = "pumpd-local"

    # ------------------------------------------------------------------ plumbing

    def do_GET(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_OPTIONS(self) -> None:
        self._dispatch()

    def __getattr__(self, name: str) -> Any:
        # Any other method (TRACE, QUERY, ...): not part of the API.
        if name.startswith("do_"):
            return self._unsupported
        raise AttributeError(name)

    def _unsupported(self) -> None:
        self._body()
        self._error(405, "method_not_allowed", f"{self.command} is not supported")

    def log_message(self, format: str, *args: Any) -> None:
        if not self.config.quiet:
            super().log_message(format, *args)

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        sent = {"Content-Type": content_type} | (headers or {})
        for name, value in sent.items():
            if name.lower() not in ("content-length", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, payload: Any) -> None:
        self._send(status, json.dumps(payload, default=str).encode())

    def _error(self, status: int, error: str, message: str, **extra: Any) -> None:
        self._json(status, {"statusCode": status, "error": error, "message": message, **extra})

    def _body(self) -> bytes | None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._error(413, "payload_too_large", f"the body exceeds {MAX_BODY_BYTES} bytes")
            self.close_connection = True
            return None
        return self.rfile.read(length) if length else b""

    def _dispatch(self) -> None:
        body = self._body()
        if body is None:
            return
        path = urlsplit(self.path).path
        try:
            if path.startswith(SIM_PREFIX):
                self._simulator(path, body)
            elif path == API_PREFIX or path.startswith(API_PREFIX + "/"):
                self._api(body)
            elif self.command in ("GET", "HEAD"):
                self._static(path)
            else:
                self._error(404, "not_found", f"no route for {self.command} {path}")
        except Exception:  # noqa: BLE001 - as API Gateway: a crash is a 502, the server lives on
            traceback.print_exc(file=sys.stderr)
            self._json(502, {"message": "Internal server error"})

    # ------------------------------------------------------------------ the API

    def _api(self, body: bytes) -> None:
        headers = {k: v for k, v in self.headers.items()}
        org: str | None = None
        if self.command != "OPTIONS":  # CORS preflights carry no token (as on API Gateway)
            org, refusal = org_from_authorization(self.headers.get("Authorization"))
            if org is None:
                self._error(401, "unauthorized", refusal)
                return
        event = proxy_event(self.command, self.path, headers, body, org)
        result = self.api(event, FakeLambdaContext(function_name=API_FUNCTION))
        out_headers = dict(result.get("headers") or {})
        for name, values in (result.get("multiValueHeaders") or {}).items():
            out_headers[name] = ", ".join(str(v) for v in values)
        raw = result.get("body") or ""
        payload = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode()
        content_type = out_headers.pop("Content-Type", "application/json")
        self._send(int(result["statusCode"]), payload, content_type, out_headers)

    # ------------------------------------------------------------------ the simulator

    def _simulator(self, path: str, body: bytes) -> None:
        simulator = shared_simulator()
        route = (self.command, path.rstrip("/"))
        if route == ("POST", "/__sim/faults"):
            try:
                spec = FaultSpec.model_validate_json(body or b"{}")
            except ValidationError as error:
                fields = [
                    {"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"]}
                    for e in error.errors()
                ]
                self._error(422, "validation_error", "invalid fault", fields=fields)
                return
            simulator.add_fault(spec)
            self._json(201, {"fault": spec.model_dump(), "faults": _faults()})
        elif route == ("DELETE", "/__sim/faults"):
            simulator.clear_faults()
            self._json(200, {"faults": []})
        elif route == ("GET", "/__sim/faults"):
            self._json(200, {"faults": _faults()})
        elif route == ("GET", "/__sim/ledger"):
            self._json(200, {"effects": [e.model_dump() for e in simulator.ledger()]})
        else:
            self._error(404, "not_found", f"no simulator route for {self.command} {path}")

    # ------------------------------------------------------------------ the frontend

    def _static(self, path: str) -> None:
        root = self.config.frontend.resolve()
        if not root.is_dir():
            if path == "/":
                self._send(200, PLACEHOLDER, "text/html; charset=utf-8")
            else:
                self._error(404, "not_found", f"no file {path} (frontend/ does not exist yet)")
            return
        target = (root / unquote(path).lstrip("/")).resolve()
        if target.is_dir():
            target = target / "index.html"
        if not target.is_relative_to(root) or not target.is_file():
            self._error(404, "not_found", f"no file {path}")
            return
        content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type.endswith(("javascript", "json")):
            content_type += "; charset=utf-8"
        self._send(200, target.read_bytes(), content_type, {"Cache-Control": "no-cache"})


def _faults() -> list[dict[str, Any]]:
    return [f.model_dump() for f in shared_simulator().faults()]


def main() -> int:
    port = int(os.environ.get("PORT", "3000"))
    server = LocalServer(port=port).start()
    stopped = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"Pumpd onboarding API on {server.url}  (Authorization: Bearer local:<org_id>)")
    print(f"frontend: {server.url}/   simulator: {server.url}/__sim/ledger   Ctrl-C stops")
    sys.stdout.flush()
    stopped.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
