"""moto in server mode on 127.0.0.1: the AWS APIs every local function process shares.

moto's own `ThreadedMotoServer`, but with one lock around each request: moto 5.2.5's
backends are plain dicts without locks, so under concurrent requests a conditional write is
checked and applied without a lock between (two claims could both win) and a transaction's
table copy can see a table change mid-iteration. AWS applies each request atomically; one
request at a time here restores that, and leaves exactly the races the application must win
(a read, then a conditional write). Step Functions executions run on moto's own threads in
this process; their `lambda:Invoke` calls go through this process's default boto3 session,
where the local runtime answers them (local.runtime).
"""

from __future__ import annotations

import io
import json
import logging
import threading
import urllib.request
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server

from local import calls, request_calls
from local.template import FAKE_ACCOUNT

# Step Functions runs the real ASL; Lambda tasks never go to Docker.
MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}


class _QuietHandler(MotoRequestHandler):
    def log_request(self, *_: Any) -> None:
        pass


_SHARED: list[MotoServer] = []
_SHARED_LOCK = threading.Lock()


class MotoServer:
    @classmethod
    def shared(cls) -> MotoServer:
        """The process's one server, started on first use: moto's backends belong to the
        process anyway, so one server serves every runtime the process starts in turn (each
        resets it when it stops), and a runtime starts without binding a new port."""
        with _SHARED_LOCK:
            if not _SHARED:
                _SHARED.append(cls().start())
            return _SHARED[0]

    def __init__(self) -> None:
        # Told of each StopExecution moto accepted, whichever process sent it (local.runtime
        # reports the execution ABORTED at once, as AWS does).
        self.stop_listeners: list[Callable[[dict[str, Any]], None]] = []
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._app = DomainDispatcherApplication(create_backend_app)
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() first"
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> MotoServer:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = make_server(
            "127.0.0.1", 0, self._serialised, threaded=True, request_handler=_QuietHandler
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="moto-server", daemon=True
        )
        self._thread.start()
        self._post("/moto-api/config", MOTO_CONFIG)
        return self

    def reset(self) -> None:
        """Forget every resource: moto's backends belong to the process, not to the server.

        It waits its turn behind the requests in flight (one at a time): on a loaded machine a
        late Lambda's last requests can take a while, hence the longer timeout."""
        self._post("/moto-api/reset", {}, timeout_s=60)

    def _post(self, path: str, body: dict[str, Any], timeout_s: float = 10) -> None:
        request = urllib.request.Request(
            f"{self.url}{path}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=timeout_s) as answer:
            answer.read()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _serialised(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if calls.recording():
            _record(environ)
        stop = _stop_request(environ) if self.stop_listeners else None
        answered: list[str] = []

        def respond(status: str, headers: Any, *rest: Any) -> Any:
            answered.append(status)
            return start_response(status, headers, *rest)

        with self._lock:
            # moto's responses are built whole: materialise inside the lock.
            body = list(self._app(environ, respond))
        if stop is not None and answered and answered[0].startswith("200"):
            for listener in list(self.stop_listeners):
                listener(stop)
        return body


def _stop_request(environ: dict[str, Any]) -> dict[str, Any] | None:
    """The parameters of a StopExecution request (its body is left for moto to read)."""
    if not environ.get("HTTP_X_AMZ_TARGET", "").endswith(".StopExecution"):
        return None
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    environ["wsgi.input"] = io.BytesIO(body)
    try:
        params = json.loads(body or b"{}")
    except ValueError:
        return None
    return params if isinstance(params, dict) else None


def _record(environ: dict[str, Any]) -> None:
    """Note what a function's request needs IAM to allow (local.calls); the runtime's own
    requests (its key is no function's) are not noted."""
    signed = request_calls.signature(environ)
    principal = calls.principal_of(signed.access_key) if signed else None
    if signed is None or principal is None:
        return
    body = b""
    if request_calls.needs_body(environ):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)  # moto reads it again
    for action, resource in request_calls.authorisations(environ, body, signed, FAKE_ACCOUNT):
        calls.record(principal, action, [resource])
