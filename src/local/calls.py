"""Who called which AWS action on what, as the local runtime saw it (tests/privilege reads it).

Each function's worker processes sign with an access key id of their own (`access_key_for`),
as a Lambda function signs with its role's credentials on AWS; the moto server reads the key
back from each request's SigV4 credential (local.request_calls), so a call is attributed to the
function that made it, whichever library or boto3 session in the worker made it. Recording is
off unless a test session turns it on: `make serve` runs for hours.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

# Not a real key: moto answers any key with its default account (the template's FAKE_ACCOUNT).
# Letters and digits only (as logical ids are): what DynamoDB Local accepts in an access key.
_KEY_PREFIX = "LocalRole"


@dataclass(frozen=True, order=True)
class Call:
    """One IAM authorisation a request needs: `principal` (the template's logical id of the
    function or state machine whose role signs it) may do `action` on `resource` (an ARN)."""

    principal: str
    action: str
    resource: str


def access_key_for(principal: str) -> str:
    return f"{_KEY_PREFIX}{principal}"


def principal_of(access_key: str) -> str | None:
    """The principal an access key stands for; None for the local runtime's own key."""
    return access_key.removeprefix(_KEY_PREFIX) if access_key.startswith(_KEY_PREFIX) else None


class CallRecorder:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        # A set: the suites repeat the same calls thousands of times.
        self._calls: set[Call] = set()

    def record(self, principal: str, action: str, resources: Iterable[str]) -> None:
        with self._lock:
            self._calls.update(Call(principal, action, r) for r in resources)

    def calls(self) -> frozenset[Call]:
        with self._lock:
            return frozenset(self._calls)


_RECORDER: list[CallRecorder] = []


def start_recording() -> CallRecorder:
    """Record from now on, in this process (the moto server and the runtime live in it)."""
    if not _RECORDER:
        _RECORDER.append(CallRecorder())
    return _RECORDER[0]


def record(principal: str, action: str, resources: Iterable[str]) -> None:
    if _RECORDER:
        _RECORDER[0].record(principal, action, resources)


def recording() -> bool:
    return bool(_RECORDER)
