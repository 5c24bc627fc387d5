"""The server side of the register contract (`clients.http_registers`) over any adapter: the
local runtime serves its `RegisterSimulator` with it, so that every function reaches one
ledger and one set of faults."""

from __future__ import annotations

import hmac
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass

from clients.platform_service import Answer
from clients.register_simulator import RegisterSimulator
from clients.registers import PermanentRegisterError, TransientRegisterError


@dataclass
class RegisterService:
    registers: RegisterSimulator
    api_key: str | None = None  # None: the caller was authenticated before (or locally)

    def handle(
        self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes
    ) -> Answer:
        if self.api_key is not None and not hmac.compare_digest(
            headers.get("authorization", ""), f"Bearer {self.api_key}"
        ):
            return Answer(401, {"message": "missing or wrong API key"})
        if method != "GET":
            return Answer(405, {"message": f"{method} is not allowed"})
        job_id = headers.get("x-job-id", "")
        params = urllib.parse.parse_qs(query)
        try:
            if path == "/v1/companies":
                found = self.registers.search(_one(params, "q"), job_id=job_id)
                return Answer(200, {"companies": [c.model_dump(mode="json") for c in found]})
            if path.startswith("/v1/companies/"):
                number = urllib.parse.unquote(path.removeprefix("/v1/companies/"))
                details = self.registers.details(number, job_id=job_id)
                if details is None:
                    return Answer(404, {"message": f"no company {number}"})
                return Answer(200, details.model_dump(mode="json"))
            if path == "/v1/contacts":
                website = params.get("website", [None])[0]
                contacts = self.registers.lookup(_one(params, "name"), website, job_id=job_id)
                return Answer(200, contacts.model_dump(mode="json"))
        except ValueError as error:
            return Answer(400, {"message": str(error)})
        except PermanentRegisterError as error:
            return Answer(422, {"message": str(error)})
        except TransientRegisterError as error:
            return Answer(503, {"message": str(error)})
        return Answer(404, {"message": f"no route for {method} {path}"})


def _one(params: dict[str, list[str]], name: str) -> str:
    values = params.get(name) or []
    if len(values) != 1 or not values[0].strip():
        raise ValueError(f"one non-empty `{name}` is required")
    return values[0]
