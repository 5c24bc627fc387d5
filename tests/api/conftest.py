"""API fixtures: the real handler on the local runtime, called with API Gateway events or over
HTTP through the local server."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from clients.secrets import KmsPasswordStore
from clients.simulator import FaultSpec, PlatformSimulator, shared_simulator
from handlers import wiring
from handlers.api import handler
from local.lambdas import FakeLambdaContext
from local.runtime import TABLE_ID, LocalRuntime
from local.samples import config_data, restaurant_data
from local.serial_dynamodb import serialise_dynamodb_requests
from local.server import LocalServer, proxy_event

ORG = "org-a"
OTHER_ORG = "org-b"
PASSWORD = "S3cure-pass-123"


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:  # readable assertion failures
        return f"Reply({self.status}, {json.dumps(self.body)[:600]})"


class Client:
    """Calls the API; subclasses decide how (an API Gateway event, or HTTP)."""

    def call(self, method: str, path: str, body: Any = None, org: str | None = ORG) -> Reply:
        raise NotImplementedError

    def get(self, path: str, org: str | None = ORG) -> Reply:
        return self.call("GET", path, org=org)

    def post(self, path: str, body: Any = None, org: str | None = ORG) -> Reply:
        return self.call("POST", path, body, org=org)

    # ------------------------------------------------------------------ the flow, in steps

    def create_batch(self, names: list[str], org: str = ORG) -> dict[str, Any]:
        reply = self.post(
            "/registration-batches",
            {"name": "Wellington November", "restaurants": [restaurant_data(n) for n in names]},
            org=org,
        )
        assert reply.status == 201, reply
        created: dict[str, Any] = reply.body
        return created

    def submit(
        self, batch_id: str, jobs: list[dict[str, Any]], org: str = ORG, **overrides: Any
    ) -> Reply:
        entries = [
            {
                "job_id": j["job_id"],
                "execution_config": config_data(j["restaurant_name"], **overrides),
            }
            for j in jobs
        ]
        return self.post(f"/registration-batches/{batch_id}/step-5", {"jobs": entries}, org=org)

    def submit_config(self, batch_id: str, job_id: str, config: dict[str, Any]) -> Reply:
        """Step 5 for one job with exactly `config` as its execution config."""
        return self.post(
            f"/registration-batches/{batch_id}/step-5",
            {"jobs": [{"job_id": job_id, "execution_config": config}]},
        )

    def job(self, job_id: str, org: str = ORG) -> dict[str, Any]:
        reply = self.get(f"/registration-batches/jobs/{job_id}", org=org)
        assert reply.status == 200, reply
        body: dict[str, Any] = reply.body
        return body

    def wait_settled(self, job_id: str, timeout_s: float = 60) -> dict[str, Any]:
        """Poll GET job until no run is active (as a client would)."""
        deadline = time.monotonic() + timeout_s
        while True:
            job = self.job(job_id)
            if job["active_execution"] is None:
                return job
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} still running: {job['status']}")
            time.sleep(0.05)


class EventClient(Client):
    """The deployed entry point, `handlers.api.handler`, given API Gateway proxy events."""

    def __init__(self) -> None:
        self.replies: list[Reply] = []

    def call(self, method: str, path: str, body: Any = None, org: str | None = ORG) -> Reply:
        raw = b"" if body is None else json.dumps(body).encode()
        event = proxy_event(method, path, {"Content-Type": "application/json"}, raw, org)
        result = handler(event, FakeLambdaContext(function_name="ApiFunction"))
        reply = Reply(
            result["statusCode"],
            json.loads(result["body"]) if result.get("body") else None,
            dict(result.get("headers") or {}),
        )
        self.replies.append(reply)
        return reply


class HttpClient(Client):
    """Plain HTTP against the local server, as curl or the frontend would."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def call(self, method: str, path: str, body: Any = None, org: str | None = ORG) -> Reply:
        headers = {"Content-Type": "application/json"}
        if org is not None:
            headers["Authorization"] = f"Bearer local:{org}"
        return self.raw(method, path, None if body is None else json.dumps(body), headers)

    def raw(
        self, method: str, path: str, data: str | bytes | None, headers: dict[str, str]
    ) -> Reply:
        payload = data.encode() if isinstance(data, str) else data
        request = urllib.request.Request(
            self.base_url + path, data=payload, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, raw, got = response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as error:
            status, raw, got = error.code, error.read(), dict(error.headers)
        try:
            parsed: Any = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode(errors="replace")
        return Reply(status, parsed, got)


@dataclass(frozen=True)
class WaitingJob:
    """A one-job batch (Cafe Aroha) whose job waits at Step 5."""

    batch_id: str
    job_id: str
    item: dict[str, Any]  # the job's stored item, as it was before the test acted
    config: dict[str, Any]  # a valid execution config for it, for the test to spoil


@dataclass
class Api:
    runtime: LocalRuntime
    simulator: PlatformSimulator
    client: EventClient

    def fault(self, sub_step: str, mode: str, **extra: Any) -> None:
        self.simulator.add_fault(FaultSpec(sub_step=sub_step, mode=mode, **extra))  # type: ignore[arg-type]

    def job_item(self, job_id: str) -> dict[str, Any]:
        table = boto3.resource("dynamodb").Table(TABLE_ID)
        item: dict[str, Any] = table.get_item(Key={"pk": f"JOB#{job_id}", "sk": "JOB"})["Item"]
        return item

    def executions(self, job_id: str | None = None) -> list[dict[str, Any]]:
        sfn = boto3.client("stepfunctions")
        found = sfn.list_executions(stateMachineArn=self.runtime.state_machine_arn)["executions"]
        return [e for e in found if job_id is None or e["name"].startswith(f"{job_id}-run-")]

    def waiting_job(self) -> WaitingJob:
        created = self.client.create_batch(["Cafe Aroha"])
        job_id = created["jobs"][0]["job_id"]
        config = config_data("Cafe Aroha")
        return WaitingJob(created["batch_id"], job_id, self.job_item(job_id), config)

    def running_job(self) -> tuple[dict[str, Any], str]:
        """A one-job batch whose run is slowed in its first sub-step (1.5 s): the batch as
        created, and the run's execution ARN."""
        created = self.client.create_batch(["Cafe Aroha"])
        self.fault("cloudwaitressAccount", "latency", latency_ms=1500)
        reply = self.client.submit(created["batch_id"], created["jobs"])
        arn: str = reply.body["accepted"][0]["execution_arn"]
        return created, arn

    def failed_job(self, sub_step: str = "restaurantRegistration") -> dict[str, Any]:
        """A one-job batch whose first run failed at a blocking sub-step (resumable)."""
        self.fault(sub_step, "fail")
        created = self.client.create_batch(["Cafe Aroha"])
        reply = self.client.submit(created["batch_id"], created["jobs"])
        assert reply.status == 202 and reply.body["accepted"], reply
        self.runtime.wait_for(reply.body["accepted"][0]["execution_arn"])
        return self.client.job(created["jobs"][0]["job_id"])


@pytest.fixture
def api(request: pytest.FixtureRequest) -> Iterator[Api]:
    """The runtime (its options from an indirect parameter) and an event client."""
    simulator = shared_simulator()
    simulator.reset()
    with LocalRuntime(**getattr(request, "param", {})) as runtime:
        # The API handler runs on this process's threads: each DynamoDB request atomic, as on
        # AWS (the moto server serialises its own requests; DynamoDB Local is atomic itself).
        undo = serialise_dynamodb_requests(wiring.api_deps().jobs)
        try:
            yield Api(runtime, simulator, EventClient())
        finally:
            undo()
    simulator.reset()


@pytest.fixture
def served() -> Iterator[tuple[LocalServer, HttpClient]]:
    """The local server on a free port (it owns its runtime), and a client for it."""
    simulator = shared_simulator()
    simulator.reset()
    server = LocalServer(port=0, quiet=True).start()
    try:
        yield server, HttpClient(server.url)
    finally:
        server.stop()
        simulator.reset()


def job_password_refs() -> dict[str, str]:
    """Job id → the reference to the password it holds (its ciphertext: clients.secrets), for
    every job that holds one."""
    table = boto3.resource("dynamodb").Table(TABLE_ID)
    refs: dict[str, str] = {}
    for item in _scan_all(table):
        account = (item.get("execution_config") or {}).get("account") or {}
        if item.get("sk") == "JOB" and account.get("password_secret_ref"):
            refs[str(item["job_id"])] = str(account["password_secret_ref"])
    return refs


def _scan_all(table: Any) -> list[dict[str, Any]]:
    """Every item of the table (a test's look, page after page)."""
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {}
    while True:
        page = table.scan(**kwargs)
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def read_password(ref: str) -> str:
    """The password a reference holds, decrypted with the runtime's key."""
    return KmsPasswordStore(boto3.client("kms"), os.environ["PASSWORD_KEY_ID"]).get_password(ref)
