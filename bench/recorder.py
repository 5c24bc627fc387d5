"""Counts the real AWS API calls the application makes, with botocore's public event hooks.

`ApiRecorder.install(events)` registers `before-call` and `after-call` handlers on an event
emitter (the default boto3 session's, in the local runtime): every client created afterwards
reports each call it makes, whichever thread makes it. For DynamoDB it also works out the
request units each call uses (see `bench.capacity`): item sizes come from the request (puts),
the response (gets, queries) or, for updates, from reading the item back with a separate,
uninstrumented client (`measure_sizes=True`; slower, so only the cost figure turns it on).

moto's ReturnConsumedCapacity is a constant, not a size-based figure, so it is not used.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3

from bench.capacity import item_size, read_units, write_units

Key = tuple[str, str]
# An item's size, and its index entries: index hash key -> (entry size, entry digest).
Sized = tuple[int, dict[str, tuple[int, str]]]
# What an item write records, from its operation ("Put", "Update", "Delete") and request.
Classify = Callable[[str, Mapping[str, Any]], str]

DDB_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}
DDB_READS = {"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"}


@dataclass
class DdbUsage:
    read_requests: int = 0
    write_requests: int = 0
    # Items written (a transaction or a batch write counts each of its items).
    item_writes: int = 0
    transactional_item_writes: int = 0
    conditional_failures: int = 0
    rru: float = 0.0
    wru: int = 0  # base table
    gsi_wru: int = 0  # index propagation of those writes
    read_bytes: int = 0
    written_bytes: int = 0
    by_operation: Counter[str] = field(default_factory=Counter)
    # Item writes by what they record (see `Classify`).
    writes_by_kind: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "read_requests": self.read_requests,
            "write_requests": self.write_requests,
            "item_writes": self.item_writes,
            "transactional_item_writes": self.transactional_item_writes,
            "conditional_failures": self.conditional_failures,
            "rru": self.rru,
            "wru": self.wru,
            "gsi_wru": self.gsi_wru,
            "read_bytes": self.read_bytes,
            "written_bytes": self.written_bytes,
            "by_operation": dict(sorted(self.by_operation.items())),
            "writes_by_kind": dict(sorted(self.writes_by_kind.items())),
        }


@dataclass(frozen=True)
class TableShape:
    name: str
    key_names: tuple[str, ...]
    # Attributes that put an item into a global secondary index (hash keys of the GSIs).
    index_keys: tuple[str, ...]
    # Per index (by its hash key): the attributes its entries hold (its keys, the table's keys
    # and its INCLUDE list), or None for projection ALL.
    projections: Mapping[str, tuple[str, ...] | None] = field(default_factory=dict)


class ApiRecorder:
    def __init__(
        self,
        table: TableShape,
        *,
        measure_sizes: bool = False,
        endpoint_url: str | None = None,
        classify: Classify | None = None,
    ) -> None:
        self._table = table
        self.classify = classify
        self._endpoint_url = endpoint_url
        self.measure_sizes = measure_sizes
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        # Wall time spent inside AWS calls (emulated here), summed over calls and threads.
        self.call_seconds = 0.0
        self.ddb = DdbUsage()
        # Last known size of each item, and its entry in each index that holds it (by the
        # index's hash key: the entry's size and a digest of its content).
        self._sizes: dict[Key, Sized] = {}
        self._shadow: Any = None
        self.enabled = True
        # Threads whose Step Functions calls are the local runtime's machinery.
        self.ignore_threads = {"execution-watcher"}

    # ------------------------------------------------------------------ wiring

    def install(self, events: Any) -> None:
        events.register("before-call", self._before)
        events.register("after-call", self._after)

    def reset(self) -> None:
        with self._lock:
            self.calls = Counter()
            self.call_seconds = 0.0
            self.ddb = DdbUsage()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "calls": dict(sorted(self.calls.items())),
                "call_seconds": self.call_seconds,
                "dynamodb": self.ddb.as_dict(),
            }

    # ------------------------------------------------------------------ hooks

    def _before(
        self, model: Any, params: Mapping[str, Any], context: dict[str, Any], **_: Any
    ) -> None:
        if not self.enabled:
            return
        context["bench_started"] = time.perf_counter()
        service = model.service_model.service_name
        if service == "dynamodb":
            body = params.get("body") or b"{}"
            context["bench_request"] = json.loads(
                body.decode() if isinstance(body, bytes) else body
            )

    def _after(
        self,
        http_response: Any,
        parsed: Mapping[str, Any],
        model: Any,
        context: dict[str, Any],
        **_: Any,
    ) -> None:
        if not self.enabled:
            return
        service = model.service_model.service_name
        operation = model.name
        if service == "stepfunctions" and threading.current_thread().name in self.ignore_threads:
            return  # the local runtime's own polling, not the application's
        elapsed = time.perf_counter() - context.pop("bench_started", time.perf_counter())
        with self._lock:
            self.calls[f"{service}.{operation}"] += 1
            self.call_seconds += elapsed
        if service != "dynamodb" or "bench_request" not in context:
            return
        request = context.pop("bench_request")
        status = getattr(http_response, "status_code", 200)
        response = _raw_json(http_response) if status < 300 else {}
        error = parsed.get("Error", {}).get("Code") if status >= 300 else None
        self._ddb(operation, request, response, error)

    # ------------------------------------------------------------------ DynamoDB units

    def _key(self, attrs: Mapping[str, Any]) -> Key:
        values = [json.dumps(attrs.get(k), sort_keys=True) for k in self._table.key_names]
        return (values[0], values[1] if len(values) > 1 else "")

    def _sized(self, item: Mapping[str, Any]) -> Sized:
        """An item's size and its entries in the indexes that hold it."""
        entries: dict[str, tuple[int, str]] = {}
        for index_key in self._table.index_keys:
            if index_key not in item:
                continue
            projected = self._table.projections.get(index_key)
            entry = (
                dict(item) if projected is None else {k: item[k] for k in projected if k in item}
            )
            entries[index_key] = (item_size(entry), json.dumps(entry, sort_keys=True))
        return item_size(item), entries

    def _read_back(self, key_attrs: Mapping[str, Any]) -> Sized | None:
        if self._shadow is None:
            # A fresh session: none of the hooks above, so this read is not counted.
            self._shadow = boto3.session.Session().client(
                "dynamodb", endpoint_url=self._endpoint_url
            )
        key = {k: key_attrs[k] for k in self._table.key_names}
        item = self._shadow.get_item(TableName=self._table.name, Key=key, ConsistentRead=True).get(
            "Item"
        )
        return None if item is None else self._sized(item)

    def _write(
        self,
        usage: DdbUsage,
        request: Mapping[str, Any],
        new: Sized | None,
        *,
        kind: str,
        tx: bool,
    ) -> None:
        """One item written: base table units from the larger image; in each index, units for
        the entry put, changed or deleted (an update that changes nothing an index projects
        writes no index: INCLUDE projections)."""
        key_attrs = request.get("Key") or request.get("Item") or {}
        usage.writes_by_kind[self.classify(kind, request) if self.classify else kind] += 1
        key = self._key(key_attrs)
        with self._lock:
            old = self._sizes.get(key)
        old_size, old_entries = old if old is not None else (0, {})
        new_size, new_entries = new if new is not None else (0, {})
        usage.item_writes += 1
        usage.transactional_item_writes += 1 if tx else 0
        usage.wru += write_units(max(old_size, new_size), transactional=tx)
        usage.written_bytes += new_size
        for index_key in set(old_entries) | set(new_entries):
            before, after = old_entries.get(index_key), new_entries.get(index_key)
            if before is not None and after is not None and before[1] == after[1]:
                continue  # the entry is unchanged: no index write
            # Put into, update in or delete from the index: the entry's size, doubled in a
            # transaction too (as DynamoDB Local reports it).
            size = after[0] if after is not None else before[0] if before is not None else 0
            usage.gsi_wru += write_units(size, transactional=tx)
        with self._lock:
            if new is None:
                self._sizes.pop(key, None)
            else:
                self._sizes[key] = new

    def _put(self, request: Mapping[str, Any]) -> Sized:
        return self._sized(request["Item"])

    def _updated(self, key_attrs: Mapping[str, Any]) -> Sized | None:
        if self.measure_sizes:
            return self._read_back(key_attrs)
        with self._lock:
            return self._sizes.get(self._key(key_attrs))

    def _ddb(
        self,
        operation: str,
        request: Mapping[str, Any],
        response: Mapping[str, Any],
        error: str | None,
    ) -> None:
        usage = DdbUsage()
        usage.by_operation[operation] += 1
        if operation in DDB_WRITES:
            usage.write_requests += 1
        elif operation in DDB_READS:
            usage.read_requests += 1
        if error is not None:
            usage.conditional_failures += 1 if "Condition" in error or "Cancel" in error else 0
            if operation in ("PutItem", "UpdateItem", "DeleteItem"):
                # A refused conditional write still uses the units of the item it checked.
                with self._lock:
                    old = self._sizes.get(
                        self._key(request.get("Key") or request.get("Item") or {})
                    )
                usage.wru += write_units(old[0] if old else 0)
            self._add(usage)
            return
        if operation == "GetItem":
            item = response.get("Item")
            size = item_size(item) if item else 0
            if request.get("ProjectionExpression"):
                # Reads are charged on the whole item, not on what the projection returns.
                with self._lock:
                    known = self._sizes.get(self._key(request["Key"]))
                size = known[0] if known else size
            usage.rru += read_units(size, consistent=bool(request.get("ConsistentRead")))
            usage.read_bytes += size
        elif operation in ("Query", "Scan"):
            size = sum(item_size(i) for i in response.get("Items", []))
            usage.rru += read_units(size, consistent=bool(request.get("ConsistentRead")))
            usage.read_bytes += size
        elif operation == "PutItem":
            self._write(usage, request, self._put(request), kind="Put", tx=False)
        elif operation == "UpdateItem":
            self._write(usage, request, self._updated(request["Key"]), kind="Update", tx=False)
        elif operation == "DeleteItem":
            self._write(usage, request, None, kind="Delete", tx=False)
        elif operation == "BatchWriteItem":
            for entries in request.get("RequestItems", {}).values():
                for entry in entries:
                    if "PutRequest" in entry:
                        put = entry["PutRequest"]
                        self._write(usage, put, self._put(put), kind="Put", tx=False)
                    else:
                        self._write(usage, entry["DeleteRequest"], None, kind="Delete", tx=False)
        elif operation == "TransactWriteItems":
            for entry in request.get("TransactItems", []):
                ((kind, op),) = entry.items()
                if kind == "Put":
                    self._write(usage, op, self._put(op), kind=kind, tx=True)
                elif kind == "Update":
                    self._write(usage, op, self._updated(op["Key"]), kind=kind, tx=True)
                elif kind == "Delete":
                    self._write(usage, op, None, kind=kind, tx=True)
        self._add(usage)

    def _add(self, usage: DdbUsage) -> None:
        with self._lock:
            total = self.ddb
            total.read_requests += usage.read_requests
            total.write_requests += usage.write_requests
            total.item_writes += usage.item_writes
            total.transactional_item_writes += usage.transactional_item_writes
            total.conditional_failures += usage.conditional_failures
            total.rru += usage.rru
            total.wru += usage.wru
            total.gsi_wru += usage.gsi_wru
            total.read_bytes += usage.read_bytes
            total.written_bytes += usage.written_bytes
            total.by_operation.update(usage.by_operation)
            total.writes_by_kind.update(usage.writes_by_kind)


def _raw_json(http_response: Any) -> dict[str, Any]:
    content = getattr(http_response, "content", b"") or b"{}"
    try:
        loaded: dict[str, Any] = json.loads(content)
    except ValueError:
        return {}
    return loaded
