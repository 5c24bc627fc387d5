"""The Pumpd platform port over HTTP (standard library only).

This module is also the **contract a real platform automation service implements**.

Requests
--------
Every operation of `clients.platform.PumpdPlatform` is one HTTP call under `{base_url}/v1`:

====================  =================================================================
operation             request
====================  =================================================================
find_account          ``GET /v1/accounts?email=<email>`` (a read: no Idempotency-Key)
create_account        ``POST /v1/create_account`` ``{email, password, name}``
publish_code_bundle   ``POST /v1/publish_code_bundle`` ``{files, checksum}``
create_onboarding_user ``POST /v1/create_onboarding_user`` ``{email, name}``
upload_images         ``POST /v1/upload_images`` ``{menu_id, image_urls}``
register_restaurant   ``POST /v1/register_restaurant`` ``{account_id, name, phone, company}``
configure_website     ``POST /v1/configure_website``
                      ``{restaurant_id, code_bundle_id, head_html, body_html, css}``
configure_services    ``POST /v1/configure_services`` ``{restaurant_id, services}``
configure_payments    ``POST /v1/configure_payments`` ``{restaurant_id, payments}``
import_menu           ``POST /v1/import_menu`` ``{restaurant_id, menu_import}``
                      (``menu_import`` in the ``pumpd-menu-import/v1`` format)
sync_onboarding_record ``POST /v1/sync_onboarding_record``
                      ``{onboarding_user_id, restaurant_id}``
create_option_sets    ``POST /v1/create_option_sets``
                      ``{restaurant_id, menu_import_id, option_sets}``
add_item_tags         ``POST /v1/add_item_tags`` ``{restaurant_id, menu_import_id, item_tags}``
====================  =================================================================

Each POST body also carries ``"context": {"job_id", "sub_step", "restaurant_name"}``.

Headers on every request:

- ``Authorization: Bearer <api_key>`` (the platform sandbox a stack deploys takes an AWS SigV4
  signature instead: its function URL is IAM-authorised, see `clients.platform_auth`)
- ``X-Job-Id: <job_id>`` — the external reference the service records on every object it
  creates, so a side effect is attributable to its job whatever key it came with.
- ``X-Sub-Step: <sub_step>``
- ``Idempotency-Key: <job_id>:<sub_step>`` (POST only; ``<job_id>:<sub_step>:<n>`` with
  ``X-Generation: <n>`` for an operator's n-th re-run). The service **must** store the
  response of the first request with a key and answer every later request with the same key
  with that stored response, without a second effect — including after a timeout on the
  client side, when the first request may or may not have taken effect. Concurrent requests
  with one key must take effect once.
- ``Content-Type: application/json``, ``Accept: application/json``.

Responses
---------
- ``200``/``201`` with ``{"id": "<object id>", "attributes": {...}}`` (``attributes``
  optional) → `PlatformResult`.
- ``404`` on ``GET /v1/accounts`` → no such account (`None`).
- ``408``, ``429``, ``5xx``, timeouts, refused or dropped connections and malformed success
  bodies → `TransientPlatformError`: the caller retries with backoff, under the same key.
- any other ``4xx`` (including ``404`` on a POST, ``409`` conflicts, ``422`` validation) and
  unexpected ``3xx`` → `PermanentPlatformError`; retrying cannot help.
- error bodies: ``{"message": "..."}`` (or ``{"error": "..."}`` /
  ``{"error": {"message": "..."}}``); the message is quoted in the raised error with the
  status. Every error is raised ``from`` its cause.
"""

from __future__ import annotations

import http.client
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import TYPE_CHECKING, Any

from clients.platform import (
    CallMeta,
    OperationsByName,
    PermanentPlatformError,
    PlatformError,
    PlatformResult,
    PumpdPlatform,
    TransientPlatformError,
)
from clients.platform_auth import Authenticator, BearerKey

USER_AGENT = "pumpd-onboarding/1 (+step6)"
_MAX_MESSAGE_CHARS = 300


def _is_transient_status(status: int) -> bool:
    return status in (408, 429) or status >= 500


_REASON_CODE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def _error_code(raw: bytes) -> str | None:
    """The platform's machine-readable reason (`{"code": "email_taken", …}`), when it gives one."""
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, str) and _REASON_CODE.match(code) else None


def _error_message(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace").strip()
    try:
        body = json.loads(text)
    except ValueError:
        return text[:_MAX_MESSAGE_CHARS] or "(empty body)"
    if isinstance(body, dict):
        message = body.get("message")
        error = body.get("error")
        if message is None and isinstance(error, dict):
            message = error.get("message")
        elif message is None and error is not None:
            message = error
        if message is not None:
            return str(message)[:_MAX_MESSAGE_CHARS]
    return text[:_MAX_MESSAGE_CHARS]


class HttpPlatform(OperationsByName):
    """`PumpdPlatform` over HTTP; the contract is in the module docstring."""

    def __init__(self, base_url: str, auth: str | Authenticator, timeout_s: float = 10.0) -> None:
        """`auth`: the API key (a bearer token), or an authenticator (clients.platform_auth)."""
        parsed = urllib.parse.urlsplit(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"base_url must be an http(s) URL, got {base_url!r}")
        if timeout_s <= 0:
            raise ValueError("timeout_s must be > 0")
        self._base_url = base_url.rstrip("/")
        self._auth = BearerKey(auth) if isinstance(auth, str) else auth
        self._timeout_s = timeout_s
        # No redirect following: a redirected POST would silently turn into a GET.
        self._opener = urllib.request.build_opener(_NoRedirect())

    @property
    def base_url(self) -> str:
        return self._base_url

    # ------------------------------------------------------------ the port

    def find_account(self, meta: CallMeta, *, email: str) -> PlatformResult | None:
        query = urllib.parse.urlencode({"email": email})
        return self._call(meta, "find_account", "GET", f"/v1/accounts?{query}", None)

    def perform(self, meta: CallMeta, operation: str, params: dict[str, Any]) -> PlatformResult:
        """A mutating operation: a POST of its keyword arguments (see `OperationsByName`)."""
        body = {
            **params,
            "context": {
                "job_id": meta.job_id,
                "sub_step": meta.sub_step,
                "restaurant_name": meta.restaurant_name,
            },
        }
        result = self._call(meta, operation, "POST", f"/v1/{operation}", body)
        if result is None:  # pragma: no cover - _call answers None only for GET 404
            raise PermanentPlatformError(f"{operation}: no result")
        return result

    # ------------------------------------------------------------ transport

    def _call(
        self,
        meta: CallMeta,
        operation: str,
        method: str,
        path: str,
        body: dict[str, Any] | None,
    ) -> PlatformResult | None:
        headers = {
            "X-Job-Id": meta.job_id,
            "X-Sub-Step": meta.sub_step,
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        data: bytes | None = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            headers["Idempotency-Key"] = meta.idempotency_key
            if meta.generation:
                headers["X-Generation"] = str(meta.generation)
            data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        url = self._base_url + path
        headers |= self._auth.headers(method, url, headers, data)
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with self._opener.open(request, timeout=self._timeout_s) as response:
                raw: bytes = response.read()
        except urllib.error.HTTPError as error:
            status = error.code
            try:
                error_body = error.read()
            except (OSError, http.client.HTTPException):
                error_body = b""
            finally:
                error.close()
            if status == 404 and method == "GET":
                return None
            failure: PlatformError
            message = f"{_error_message(error_body)} ({operation}, HTTP {status})"
            if _is_transient_status(status):
                failure = TransientPlatformError(message)
            else:
                failure = PermanentPlatformError(message, code=_error_code(error_body))
            raise failure from error
        except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
            # Timeouts (TimeoutError is an OSError), refused or reset connections, truncated
            # responses: the request may or may not have taken effect; a retry under the same
            # idempotency key is safe.
            reason = getattr(error, "reason", None) or error
            # The address stays in the logs (the error's cause), not in the job's sentence.
            raise TransientPlatformError(
                f"{operation}: {type(error).__name__}: {reason}"
            ) from error
        return self._parse(operation, raw)

    @staticmethod
    def _parse(operation: str, raw: bytes) -> PlatformResult:
        try:
            return PlatformResult.model_validate_json(raw)
        except ValueError as error:
            raise TransientPlatformError(
                f"{operation}: malformed response body: {raw[:_MAX_MESSAGE_CHARS]!r}"
            ) from error


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        return None


if TYPE_CHECKING:
    # mypy proves the adapter implements the port.
    _port_check: PumpdPlatform = HttpPlatform("https://pumpd.example", "key")
