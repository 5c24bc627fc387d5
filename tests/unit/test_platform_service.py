"""The server side of the platform's HTTP contract: the adapter and the service agree, and a
request off the contract is refused with no effect.

The local runtime's phase functions reach the simulator only this way (local.platform_server),
so every suite depends on this pairing; here it is checked on its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from clients.http_platform import HttpPlatform
from clients.platform import CallMeta, PermanentPlatformError, TransientPlatformError
from clients.platform_sandbox import SandboxService
from clients.platform_service import PlatformService
from clients.simulator import FaultSpec, PlatformSimulator
from local.platform_server import PlatformServer

META = CallMeta(job_id="job-1", sub_step="cloudwaitressAccount", restaurant_name="Cafe Aroha")
ACCOUNT = {"email": "owner@cafe-aroha.example", "password": "S3cure-pass", "name": "Cafe Aroha"}
KEY = "the-key"


def _headers(**extra: str) -> dict[str, str]:
    return {
        "authorization": f"Bearer {KEY}",
        "x-job-id": META.job_id,
        "x-sub-step": META.sub_step,
        "idempotency-key": META.idempotency_key,
    } | extra


def _body(**params: object) -> bytes:
    return json.dumps({**params, "context": {"restaurant_name": META.restaurant_name}}).encode()


@pytest.fixture
def simulator() -> PlatformSimulator:
    return PlatformSimulator()


def test_a_request_off_the_contract_is_refused_and_takes_no_effect(
    simulator: PlatformSimulator,
) -> None:
    service = PlatformService(simulator, KEY)
    post = "/v1/create_account"
    # given requests that each break one rule of the contract; when they arrive
    answers = {
        "wrong key": service.handle("POST", post, "", _headers(authorization="Bearer x"), b"{}"),
        "other key": service.handle(
            "POST", post, "", _headers(**{"idempotency-key": "job-1:other"}), _body(**ACCOUNT)
        ),
        "no context": service.handle("POST", post, "", _headers(), json.dumps(ACCOUNT).encode()),
        "extra field": service.handle("POST", post, "", _headers(), _body(**ACCOUNT, admin=True)),
        "not json": service.handle("POST", post, "", _headers(), b"{"),
        "unknown": service.handle("POST", "/v1/delete_everything", "", _headers(), b"{}"),
        "two emails": service.handle("GET", "/v1/accounts", "email=a&email=b", _headers(), b""),
    }
    # then each is refused with its status and a message, and the platform changed nothing
    assert {k: a.status for k, a in answers.items()} == {
        "wrong key": 401,
        "other key": 400,
        "no context": 400,
        "extra field": 400,
        "not json": 400,
        "unknown": 404,
        "two emails": 400,
    }
    assert all(a.body["message"] for a in answers.values())
    assert simulator.ledger() == [] and simulator.objects() == []


def test_the_platforms_errors_keep_their_kind(simulator: PlatformSimulator) -> None:
    service = PlatformService(simulator, KEY)
    # given an account that exists already; when another job asks to create it
    service.handle("POST", "/v1/create_account", "", _headers(), _body(**ACCOUNT))
    other = _headers(**{"x-job-id": "job-2", "idempotency-key": "job-2:cloudwaitressAccount"})
    conflict = service.handle("POST", "/v1/create_account", "", other, _body(**ACCOUNT))
    # then a permanent error is a 422 (the adapter raises PermanentPlatformError for it)
    assert conflict.status == 422 and "already exists" in conflict.body["message"]
    # and an unknown account on the read is a 404 (the adapter's None)
    missing = service.handle("GET", "/v1/accounts", "email=nobody%40x.example", _headers(), b"")
    assert missing.status == 404


@pytest.fixture
def served(simulator: PlatformSimulator) -> Iterator[tuple[PlatformServer, list[str]]]:
    crashes: list[str] = []

    def on_crash(port: int, reason: str) -> bool:
        crashes.append(reason)
        return False  # no worker process here: the caller is this test

    server = PlatformServer(SandboxService(simulator, KEY).handle, on_crash).start()
    yield server, crashes
    server.stop()


def test_the_adapter_over_http_is_the_simulator_once_per_key(
    simulator: PlatformSimulator, served: tuple[PlatformServer, list[str]]
) -> None:
    server, _ = served
    adapter = HttpPlatform(server.url, KEY, timeout_s=5)
    # when the adapter creates an account twice under one key, over HTTP
    first = adapter.create_account(META, **ACCOUNT)
    again = adapter.create_account(META, **ACCOUNT)
    # then the platform took the effect once and answered the same both times
    assert again == first
    (entry,) = simulator.ledger()
    assert (entry.count, entry.calls, entry.object_id) == (1, 2, first.id)
    assert adapter.find_account(META, email=ACCOUNT["email"]) == first
    # and a permanent refusal reaches the caller as one
    other = META.model_copy(update={"job_id": "job-2"})
    with pytest.raises(PermanentPlatformError, match="already exists"):
        adapter.create_account(other, **ACCOUNT)


def test_a_crash_is_handed_to_the_runtime_before_or_after_the_effect(
    simulator: PlatformSimulator, served: tuple[PlatformServer, list[str]]
) -> None:
    server, crashes = served
    adapter = HttpPlatform(server.url, KEY, timeout_s=5)
    simulator.add_fault(FaultSpec(sub_step=META.sub_step, mode="crash_after", times=1))
    # when the call crashes after its effect (and no worker owns the connection)
    with pytest.raises(TransientPlatformError, match="simulated crash after"):
        adapter.create_account(META, **ACCOUNT)
    # then the runtime was asked to kill the caller, and the effect had taken place
    assert len(crashes) == 1 and crashes[0].startswith("simulated crash after create_account")
    assert [e.count for e in simulator.ledger()] == [1]
