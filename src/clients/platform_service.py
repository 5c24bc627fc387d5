"""The server side of the platform's HTTP contract (`clients.http_platform`), over any port.

`PlatformService` turns one HTTP request of the contract into a call of a `PumpdPlatform`
implementation and its answer into a status and a JSON body. The local runtime serves the
in-memory simulator with it, so the phase functions, each in its own process, reach the one
simulator through the HTTP adapter (its retries, timeouts and `Idempotency-Key` included).

Answers follow the contract: `200` with `{"id", "attributes"}`; `404` for an unknown account
on `GET /v1/accounts`; `422` for a `PermanentPlatformError`; `503` for a
`TransientPlatformError`; `400` for a malformed request; `401` for a wrong key (when the
service checks one: behind an IAM-authorised function URL, AWS has authenticated the caller
before the request reaches it, and `api_key` is None).
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from clients.platform import (
    OPERATIONS,
    CallMeta,
    PermanentPlatformError,
    PumpdPlatform,
    TransientPlatformError,
)


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class BadRequestError(ValueError):
    """The request does not follow the contract."""


def _refused(status: int, message: str, code: str | None = None) -> Answer:
    return Answer(status, {"message": message} | ({"code": code} if code else {}))


UNAUTHORISED = Answer(401, {"message": "missing or wrong API key"})


@dataclass
class PlatformService:
    platform: PumpdPlatform
    # None: the caller was authenticated before the request got here (IAM function URL).
    api_key: str | None

    def handle(
        self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes
    ) -> Answer:
        """Answer one request. A `BaseException` that is not an `Exception` passes through."""
        if not self.authorised(headers):
            return UNAUTHORISED
        try:
            if (method, path) == ("GET", "/v1/accounts"):
                return self._find_account(headers, query)
            operation = path.removeprefix("/v1/")
            if method != "POST" or operation not in OPERATIONS:
                return _refused(404, f"no route for {method} {path}")
            return self._mutate(operation, headers, body)
        except BadRequestError as error:
            return _refused(400, str(error))
        except PermanentPlatformError as error:
            return _refused(422, str(error), error.code)
        except TransientPlatformError as error:
            return _refused(503, str(error))

    def authorised(self, headers: Mapping[str, str]) -> bool:
        if self.api_key is None:
            return True
        given = headers.get("authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {self.api_key}".encode())

    def _find_account(self, headers: Mapping[str, str], query: str) -> Answer:
        emails = parse_qs(query).get("email") or []
        if len(emails) != 1:
            raise BadRequestError("GET /v1/accounts needs one `email` query parameter")
        meta = _meta(headers, restaurant_name="")
        found = self.platform.find_account(meta, email=emails[0])
        if found is None:
            return _refused(404, "no account with that email")
        return Answer(200, found.model_dump())

    def _mutate(self, operation: str, headers: Mapping[str, str], body: bytes) -> Answer:
        try:
            params = json.loads(body)
        except ValueError as error:
            raise BadRequestError(f"the body is not JSON: {error}") from error
        if not isinstance(params, dict):
            raise BadRequestError("the body must be a JSON object")
        context = params.pop("context", None)
        if not isinstance(context, dict) or not isinstance(context.get("restaurant_name"), str):
            raise BadRequestError("the body needs `context.restaurant_name`")
        meta = _meta(headers, restaurant_name=context["restaurant_name"])
        if headers.get("idempotency-key") != meta.idempotency_key:
            raise BadRequestError(f"Idempotency-Key must be {meta.idempotency_key!r}")
        expected = OPERATIONS[operation]
        if set(params) != set(expected):
            raise BadRequestError(f"{operation} takes exactly {', '.join(expected)}")
        # Looked up per call: a test may hold one operation of the platform (a gate).
        result = getattr(self.platform, operation)(meta, **params)
        return Answer(200, result.model_dump())


def _meta(headers: Mapping[str, str], *, restaurant_name: str) -> CallMeta:
    job_id, sub_step = headers.get("x-job-id"), headers.get("x-sub-step")
    if not job_id or not sub_step:
        raise BadRequestError("X-Job-Id and X-Sub-Step are required")
    generation = headers.get("x-generation", "0")
    if not generation.isdigit() or len(generation) > 6:
        raise BadRequestError("X-Generation must be a whole number")
    return CallMeta(
        job_id=job_id,
        sub_step=sub_step,
        restaurant_name=restaurant_name,
        generation=int(generation),
    )
