"""The simulator's state in one process's memory, behind one lock (never held while sleeping)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from clients.platform import CallMeta
from clients.simulator import (
    Change,
    FaultSpec,
    LedgerEntry,
    PlatformState,
    SimObject,
    Stored,
    consume_faults,
    email_taken,
)


@dataclass
class _Entry:
    meta: CallMeta
    operation: str
    count: int
    object_id: str


class InMemoryState:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[FaultSpec] = []
        self._latency_ms = 0
        self._forget()

    def _forget(self) -> None:
        self._stored: dict[str, Stored] = {}
        self._entries: dict[str, _Entry] = {}
        self._calls: dict[str, int] = {}
        self._objects: dict[str, SimObject] = {}
        self._accounts: dict[str, str] = {}
        self._menu_items: dict[str, frozenset[str]] = {}

    # ------------------------------------------------------------ faults and latency

    def add_fault(self, spec: FaultSpec) -> None:
        with self._lock:
            self._faults.append(spec)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults = []

    def faults(self) -> list[FaultSpec]:
        with self._lock:
            return list(self._faults)

    def set_latency(self, ms: int) -> None:
        with self._lock:
            self._latency_ms = ms

    def begin_call(self, meta: CallMeta, *, mutating: bool) -> tuple[FaultSpec | None, int]:
        key = meta.idempotency_key
        with self._lock:
            if mutating:
                self._calls[key] = self._calls.get(key, 0) + 1
            self._faults, strike, delay_ms = consume_faults(self._faults, meta, mutating=mutating)
            return strike, self._latency_ms + delay_ms

    # ------------------------------------------------------------ objects

    def get_object(self, object_id: str) -> SimObject | None:
        with self._lock:
            return self._objects.get(object_id)

    def objects(self) -> list[SimObject]:
        with self._lock:
            return list(self._objects.values())

    def account_for(self, email: str) -> str | None:
        with self._lock:
            return self._accounts.get(email)

    def menu_items(self, menu_import_id: str) -> frozenset[str]:
        with self._lock:
            return self._menu_items.get(menu_import_id, frozenset())

    # ------------------------------------------------------------ effects and the ledger

    def stored(self, key: str) -> Stored | None:
        with self._lock:
            return self._stored.get(key)

    def effect_count(self, key: str) -> int:
        with self._lock:
            entry = self._entries.get(key)
            return entry.count if entry is not None else 0

    def commit(self, change: Change, *, replay: bool = False) -> Stored:
        meta, stored, made, effect = change
        key = meta.idempotency_key
        with self._lock:
            earlier = self._stored.get(key)
            if earlier is not None and not replay:
                return earlier
            if effect.email is not None:
                if effect.email in self._accounts:
                    raise email_taken(effect.email)
                self._accounts[effect.email] = made.object_id
            if effect.menu_items:
                self._menu_items[made.object_id] = effect.menu_items
            self._objects[made.object_id] = made
            self._stored[key] = stored
            entry = self._entries.get(key)
            if entry is None:
                self._entries[key] = _Entry(meta, stored.operation, 1, made.object_id)
            else:
                entry.count += 1
            return stored

    def ledger(self) -> list[LedgerEntry]:
        with self._lock:
            return [
                LedgerEntry(
                    job_id=entry.meta.job_id,
                    sub_step=entry.meta.sub_step,
                    idempotency_key=key,
                    operation=entry.operation,
                    restaurant=entry.meta.restaurant_name,
                    count=entry.count,
                    calls=self._calls.get(key, 0),
                    object_id=entry.object_id,
                )
                for key, entry in self._entries.items()
            ]

    def reset(self) -> None:
        with self._lock:
            self._forget()
            self._faults = []
            self._latency_ms = 0


if TYPE_CHECKING:
    # mypy proves the in-memory state implements the port.
    _state_check: PlatformState = InMemoryState()
