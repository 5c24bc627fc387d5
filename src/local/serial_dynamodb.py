"""One DynamoDB request at a time through moto, as DynamoDB itself guarantees per request.

moto evaluates a condition and applies the write in separate Python steps, and iterates its
tables while other threads change them: under threads, two conditional writes can both pass
(and "RuntimeError: dictionary changed size during iteration" can escape from moto).
DynamoDB applies each request atomically. Serialising whole requests in the local process
restores that guarantee and leaves exactly the races the application itself must win (read,
then a conditional write).

The hooks go on the repositories' own clients, before those are used: registering on the
shared boto3 session instead would race with threads that are creating clients from it (a
client copies the session's handlers when it is created).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from state.repository import JobRepository

# One lock for the process: moto keeps one DynamoDB backend, whichever client calls it.
_REQUEST = threading.RLock()
_IDS = ("serial-dynamodb-acquire", "serial-dynamodb-release", "serial-dynamodb-release-error")


def _acquire(**_: Any) -> None:
    _REQUEST.acquire()


def _release(**_: Any) -> None:
    _REQUEST.release()


def serialise_dynamodb_requests(*repositories: JobRepository) -> Callable[[], None]:
    """Make each DynamoDB request of these repositories atomic; returns the undo."""
    emitters = [repo._table.meta.client.meta.events for repo in repositories]
    for events in emitters:
        events.register("before-call.dynamodb", _acquire, unique_id=_IDS[0])
        events.register("after-call.dynamodb", _release, unique_id=_IDS[1])
        events.register("after-call-error.dynamodb", _release, unique_id=_IDS[2])

    def undo() -> None:
        for events in emitters:
            events.unregister("before-call.dynamodb", unique_id=_IDS[0])
            events.unregister("after-call.dynamodb", unique_id=_IDS[1])
            events.unregister("after-call-error.dynamodb", unique_id=_IDS[2])

    return undo
