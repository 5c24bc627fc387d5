"""The platform sandbox's service: the platform's HTTP contract answered by the simulator's
rules, plus the fault drills an operator runs against a deployed sandbox.

`SandboxService.handle` never raises for a request: a simulated crash becomes a `502` that
names it in the `X-Sandbox-Crash` header (`crash_before` or `crash_after`). Deployed, the
caller sees a bad gateway and retries under the same idempotency key (after `crash_after` it
gets the stored answer: the effect is not repeated). Locally, the runtime's front door reads
the header and kills the calling function's process instead, as a Lambda dying mid-call.

Fault drills (`/v1/__sandbox/faults`): `GET` lists the active faults, `POST` adds one (a
`FaultSpec`), `DELETE` clears them all.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import ValidationError

from clients.platform_service import UNAUTHORISED, Answer, PlatformService
from clients.simulator import FaultSpec, PlatformSimulator, SimulatedCrash

FAULTS_PATH = "/v1/__sandbox/faults"
CRASH_HEADER = "x-sandbox-crash"


@dataclass
class SandboxService:
    simulator: PlatformSimulator
    # None behind an IAM-authorised function URL (see PlatformService).
    api_key: str | None = None

    def handle(
        self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes
    ) -> Answer:
        contract = PlatformService(self.simulator, self.api_key)
        if path == FAULTS_PATH:
            return self._faults(method, body) if contract.authorised(headers) else UNAUTHORISED
        try:
            return contract.handle(method, path, query, headers, body)
        except SimulatedCrash as crash:
            return Answer(502, {"message": str(crash)}, {CRASH_HEADER: crash.mode})

    def _faults(self, method: str, body: bytes) -> Answer:
        if method == "GET":
            return Answer(200, {"faults": self._listed()})
        if method == "DELETE":
            self.simulator.clear_faults()
            return Answer(200, {"faults": []})
        if method != "POST":
            return Answer(405, {"message": f"{method} is not allowed on {FAULTS_PATH}"})
        try:
            spec = FaultSpec.model_validate_json(body or b"{}")
        except ValidationError as error:
            problems = [
                {"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"]}
                for e in error.errors()
            ]
            return Answer(422, {"message": "invalid fault", "fields": problems})
        self.simulator.add_fault(spec)
        return Answer(201, {"fault": spec.model_dump(), "faults": self._listed()})

    def _listed(self) -> list[dict[str, object]]:
        return [json.loads(f.model_dump_json()) for f in self.simulator.faults()]
