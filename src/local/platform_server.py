"""The platform's front door on 127.0.0.1 (local only): what the phase functions call.

The phase functions run in processes of their own (local.workers) and reach the platform
through the HTTP adapter, as a deployed function does. Behind this door, `respond` answers
each request: the in-memory simulator of this process (`SandboxService` over it), or the
platform sandbox function in its own worker process, as its function URL would invoke it.

A simulated crash kills the process that made the call: the answer names it
(`X-Sandbox-Crash`, see clients.platform_sandbox), and this server asks `on_crash` to kill
whichever worker owns the calling connection (before the effect for `crash_before`, after it
for `crash_after`), so the function dies mid-call exactly as a Lambda whose sandbox dies.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from waitress.server import create_server

from clients.platform_sandbox import CRASH_HEADER
from clients.platform_service import Answer

if TYPE_CHECKING:
    from waitress.server import BaseWSGIServer, MultiSocketServer

# (the caller's TCP port, why) → True when a process was killed.
CrashHandler = Callable[[int, str], bool]
# (method, path, query, lower-case headers, body) → the answer.
Responder = Callable[[str, str, str, dict[str, str], bytes], Answer]
MAX_BODY_BYTES = 10 * 1024 * 1024


class PlatformServer:
    def __init__(self, respond: Responder, on_crash: CrashHandler) -> None:
        self._respond = respond
        self._on_crash = on_crash
        self._server: BaseWSGIServer | MultiSocketServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start() first"
        return f"http://127.0.0.1:{self._server.effective_port}"  # type: ignore[union-attr]

    def start(self) -> PlatformServer:
        # Each call of a phase holds a thread while the simulator's latency faults sleep.
        server = create_server(
            self._app, host="127.0.0.1", port=0, threads=32, backlog=1024, channel_timeout=120
        )
        self._server = server
        logging.getLogger("waitress").setLevel(logging.ERROR)
        self._thread = threading.Thread(target=server.run, name="platform-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _app(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY_BYTES:
            return self._answer(start_response, 413, {"message": "a bad or too large body"})
        body = environ["wsgi.input"].read(length) if length else b""
        answer = self._respond(
            environ["REQUEST_METHOD"],
            environ.get("PATH_INFO", ""),
            environ.get("QUERY_STRING", ""),
            headers,
            body,
        )
        if CRASH_HEADER in answer.headers:
            message = str(answer.body.get("message", "simulated crash"))
            killed = self._on_crash(int(environ.get("REMOTE_PORT") or 0), message)
            # Nobody reads this when the caller was killed; a caller that is not a worker
            # (a test calling the adapter itself) sees a server error it may retry.
            note = "" if killed else " (no worker process to kill)"
            return self._answer(start_response, 500, {"message": f"{message}{note}"})
        return self._answer(start_response, answer.status, answer.body)

    @staticmethod
    def _answer(start_response: Any, status: int, body: dict[str, Any]) -> list[bytes]:
        payload = json.dumps(body, default=str).encode()
        start_response(
            f"{status} {HTTPStatus(status).phrase}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
        )
        return [payload]
