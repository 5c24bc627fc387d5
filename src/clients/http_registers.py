"""The directory and company register over HTTP: the contract a register service implements.

Requests (JSON answers; ``X-Job-Id: <job_id>`` names the job for the service's logs;
``Authorization: Bearer <key>`` when the adapter has a key, read from Secrets Manager through
Powertools Parameters and cached for 5 minutes):

- ``GET {base}/v1/companies?q=<restaurant name>`` → ``200 {"companies": [{"company_number",
  "name", "address"}]}`` (at most 10, best first; none: ``[]``).
- ``GET {base}/v1/companies/<number>`` → ``200 {"number", "name", "address", "directors",
  "status", "incorporated_on"}``; ``404``: the register does not know it (`None`).
- ``GET {base}/v1/contacts?name=<name>&website=<url>`` → ``200 {"emails", "phones"}``.

``408``, ``429``, ``5xx``, timeouts, refused connections and malformed bodies are
`TransientRegisterError` (the JobPipeline retries them with backoff); any other ``4xx`` is
`PermanentRegisterError`. There is no retry inside the adapter: the state machine's Retry is the
one place a look-up is tried again (http_platform retries inside its sub-steps instead,
because a phase runs many sub-steps in one task).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from clients.registers import (
    CompanyCandidate,
    CompanyDetails,
    Contacts,
    PermanentRegisterError,
    TransientRegisterError,
)

SECRET_MAX_AGE_S = 300
_TRANSIENT = frozenset({408, 429})


class HttpRegisters:
    def __init__(
        self, base_url: str, *, api_key_secret_arn: str | None = None, timeout_s: float = 10.0
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("the register's base URL must be http(s)")
        self._base = base_url.rstrip("/") + "/v1"
        self._secret_arn = api_key_secret_arn
        self._timeout_s = timeout_s

    def search(self, name: str, *, job_id: str) -> list[CompanyCandidate]:
        body = self._get("/companies?" + urllib.parse.urlencode({"q": name}), job_id)
        if body is None or not isinstance(body.get("companies"), list):
            raise TransientRegisterError("the register's search answer has no companies list")
        return [CompanyCandidate.model_validate(c) for c in body["companies"]]

    def details(self, company_number: str, *, job_id: str) -> CompanyDetails | None:
        body = self._get("/companies/" + urllib.parse.quote(company_number, safe=""), job_id)
        return None if body is None else CompanyDetails.model_validate(body)

    def lookup(self, name: str, website_url: str | None, *, job_id: str) -> Contacts:
        query = {"name": name} | ({"website": website_url} if website_url else {})
        body = self._get("/contacts?" + urllib.parse.urlencode(query), job_id)
        return Contacts() if body is None else Contacts.model_validate(body)

    def _headers(self, job_id: str) -> dict[str, str]:
        headers = {"Accept": "application/json", "X-Job-Id": job_id}
        if self._secret_arn:
            from aws_lambda_powertools.utilities import parameters

            key = parameters.get_secret(self._secret_arn, max_age=SECRET_MAX_AGE_S)
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def _get(self, path: str, job_id: str) -> dict[str, Any] | None:
        """The answer's JSON object; None for a 404."""
        request = urllib.request.Request(self._base + path, headers=self._headers(job_id))
        try:
            with urllib.request.urlopen(request, timeout=self._timeout_s) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            status = error.code
            message = _message(error.read())
            if status == 404:
                return None
            if status in _TRANSIENT or status >= 500:
                raise TransientRegisterError(
                    f"the register answered {status}: {message}"
                ) from error
            raise PermanentRegisterError(f"the register answered {status}: {message}") from error
        except (urllib.error.URLError, OSError) as error:
            raise TransientRegisterError(f"the register did not answer: {error}") from error
        try:
            parsed = json.loads(raw)
        except ValueError as error:
            raise TransientRegisterError("the register's answer is not JSON") from error
        if not isinstance(parsed, dict):
            raise TransientRegisterError("the register's answer is not a JSON object")
        return parsed


def _message(raw: bytes) -> str:
    try:
        parsed = json.loads(raw)
    except ValueError:
        return raw[:200].decode(errors="replace")
    if isinstance(parsed, dict) and isinstance(parsed.get("message"), str):
        return str(parsed["message"])[:200]
    return str(parsed)[:200]
