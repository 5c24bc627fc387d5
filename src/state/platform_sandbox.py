"""The platform sandbox's state in DynamoDB: the simulator's objects, ledger and faults, shared
by every process that serves the sandbox (`handlers.platform_sandbox`).

One table, key `pk` alone:

- ``KEY#<idempotency key>`` the calls made under the key (`calls`), and once an effect was
  taken: the stored answer, the ledger entry and the effects taken (`effects`);
- ``OBJ#<object id>`` a platform object (and a menu import's item external ids);
- ``EMAIL#<email>`` the account that owns an email (the uniqueness claim);
- ``CONTROL`` the active faults (with a version, for optimistic updates) and the latency.

`commit` is one transaction: the answer under the key (unless another call stored one first),
the object and the email claim, so two processes racing with one key take effect once and two
accounts never share an email. The listings (ledger, objects, reset) scan: they serve tests
and operators looking at a sandbox, never a job's path.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Attr
from botocore.exceptions import ClientError

from clients.platform import CallMeta, TransientPlatformError
from clients.simulator import (
    Change,
    FaultSpec,
    LedgerEntry,
    SimObject,
    Stored,
    consume_faults,
    email_taken,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

    from clients.simulator import PlatformState

CONTROL = "CONTROL"
# Optimistic updates of the fault list: enough for every concurrent caller of a batch to win.
MAX_FAULT_UPDATES = 50
# A commit cancelled by a concurrent transaction on its items is tried again this often.
COMMIT_ATTEMPTS = 6


def _key(key: str) -> dict[str, str]:
    return {"pk": f"KEY#{key}"}


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class DynamoDBPlatformState:
    def __init__(self, table: Table) -> None:
        self._table = table
        # The resource's client: it serialises plain Python values itself, as the Table does.
        self._client = table.meta.client

    # ------------------------------------------------------------ faults and latency

    def _control(self) -> tuple[list[FaultSpec], int, int]:
        item = self._table.get_item(Key={"pk": CONTROL}, ConsistentRead=True).get("Item") or {}
        faults = [FaultSpec.model_validate(f) for f in json.loads(str(item.get("faults", "[]")))]
        return faults, int(str(item.get("latency_ms", 0))), int(str(item.get("version", 0)))

    def _write_faults(self, faults: list[FaultSpec], version: int) -> bool:
        """Replace the fault list if nobody changed it since `version` was read."""
        condition = Attr("version").eq(version) if version else Attr("version").not_exists()
        try:
            self._table.update_item(
                Key={"pk": CONTROL},
                UpdateExpression="SET faults = :faults, version = :next",
                ConditionExpression=condition,
                ExpressionAttributeValues={
                    ":faults": json.dumps([f.model_dump() for f in faults]),
                    ":next": version + 1,
                },
            )
        except ClientError as error:
            if _code(error) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def _change_faults(self, change: Callable[[list[FaultSpec]], list[FaultSpec]]) -> None:
        for _ in range(MAX_FAULT_UPDATES):
            faults, _, version = self._control()
            if self._write_faults(change(faults), version):
                return
        raise TransientPlatformError("sandbox: the fault list kept changing; try again")

    def add_fault(self, spec: FaultSpec) -> None:
        self._change_faults(lambda faults: [*faults, spec])

    def clear_faults(self) -> None:
        self._change_faults(lambda _: [])

    def faults(self) -> list[FaultSpec]:
        return self._control()[0]

    def set_latency(self, ms: int) -> None:
        self._table.update_item(
            Key={"pk": CONTROL},
            UpdateExpression="SET latency_ms = :ms",
            ExpressionAttributeValues={":ms": ms},
        )

    def begin_call(self, meta: CallMeta, *, mutating: bool) -> tuple[FaultSpec | None, int]:
        if mutating:
            self._table.update_item(
                Key=_key(meta.idempotency_key),
                UpdateExpression="ADD calls :one",
                ExpressionAttributeValues={":one": 1},
            )
        for _ in range(MAX_FAULT_UPDATES):
            faults, latency_ms, version = self._control()
            left, strike, delay_ms = consume_faults(faults, meta, mutating=mutating)
            if left == faults or self._write_faults(left, version):
                return strike, latency_ms + delay_ms
        raise TransientPlatformError("sandbox: the fault list kept changing; try again")

    # ------------------------------------------------------------ objects

    def get_object(self, object_id: str) -> SimObject | None:
        item = self._table.get_item(Key={"pk": f"OBJ#{object_id}"}).get("Item")
        return SimObject.model_validate_json(str(item["object"])) if item else None

    def objects(self) -> list[SimObject]:
        return [SimObject.model_validate_json(str(item["object"])) for item in self._scan("OBJ#")]

    def account_for(self, email: str) -> str | None:
        item = self._table.get_item(Key={"pk": f"EMAIL#{email}"}, ConsistentRead=True).get("Item")
        return str(item["object_id"]) if item else None

    def menu_items(self, menu_import_id: str) -> frozenset[str]:
        item = self._table.get_item(
            Key={"pk": f"OBJ#{menu_import_id}"}, ProjectionExpression="menu_items"
        ).get("Item")
        return frozenset(json.loads(str(item.get("menu_items", "[]")))) if item else frozenset()

    # ------------------------------------------------------------ effects and the ledger

    def _key_item(self, key: str) -> dict[str, Any]:
        return self._table.get_item(Key=_key(key), ConsistentRead=True).get("Item") or {}

    def stored(self, key: str) -> Stored | None:
        answer = self._key_item(key).get("answer")
        return Stored.model_validate_json(str(answer)) if answer is not None else None

    def effect_count(self, key: str) -> int:
        return int(str(self._key_item(key).get("effects", 0)))

    def commit(self, change: Change, *, replay: bool = False) -> Stored:
        meta, stored, made, effect = change
        key = meta.idempotency_key
        answer: dict[str, Any] = {
            "TableName": self._table.name,
            "Key": _key(key),
            "UpdateExpression": (
                "SET answer = :answer, operation = :operation, job_id = :job, sub_step = :sub,"
                " restaurant = :restaurant, object_id = if_not_exists(object_id, :object),"
                " first_ns = if_not_exists(first_ns, :now) ADD effects :one"
            ),
            "ExpressionAttributeValues": {
                ":answer": stored.model_dump_json(),
                ":operation": stored.operation,
                ":job": meta.job_id,
                ":sub": meta.sub_step,
                ":restaurant": meta.restaurant_name,
                ":object": made.object_id,
                ":now": time.time_ns(),
                ":one": 1,
            },
        }
        if not replay:
            answer["ConditionExpression"] = "attribute_not_exists(answer)"
        obj: dict[str, Any] = {"pk": f"OBJ#{made.object_id}", "object": made.model_dump_json()}
        if effect.menu_items:
            obj["menu_items"] = json.dumps(sorted(effect.menu_items))
        items: list[Any] = [
            {"Update": answer},
            {"Put": {"TableName": self._table.name, "Item": obj}},
        ]
        if effect.email is not None:
            claim = {"pk": f"EMAIL#{effect.email}", "object_id": made.object_id}
            items.append(
                {
                    "Put": {
                        "TableName": self._table.name,
                        "Item": claim,
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
        for attempt in range(COMMIT_ATTEMPTS):
            try:
                self._client.transact_write_items(TransactItems=items)
                return stored
            except ClientError as error:
                if _code(error) != "TransactionCanceledException":
                    raise
                # Find out what stood in the way by reading, not by parsing the error.
                earlier = self.stored(key)
                if earlier is not None and not replay:
                    return earlier
                if effect.email is not None and self.account_for(effect.email) is not None:
                    raise email_taken(effect.email) from error
                # Another transaction held one of the items (TransactionConflict): once it has
                # committed, the read above finds its answer; until then, try again.
                if attempt == COMMIT_ATTEMPTS - 1:
                    raise TransientPlatformError(f"sandbox: {key} met concurrent writes") from error
                time.sleep(0.01 * 2**attempt)
        raise AssertionError("unreachable")

    def ledger(self) -> list[LedgerEntry]:
        taken = [item for item in self._scan("KEY#") if "answer" in item]
        taken.sort(key=lambda item: (int(str(item["first_ns"])), str(item["pk"])))
        return [
            LedgerEntry(
                job_id=str(item["job_id"]),
                sub_step=str(item["sub_step"]),
                idempotency_key=str(item["pk"]).removeprefix("KEY#"),
                operation=str(item["operation"]),
                restaurant=str(item["restaurant"]),
                count=int(str(item["effects"])),
                calls=int(str(item.get("calls", 0))),
                object_id=str(item["object_id"]),
            )
            for item in taken
        ]

    def reset(self) -> None:
        with self._table.batch_writer() as writer:
            for item in self._scan(""):
                writer.delete_item(Key={"pk": item["pk"]})

    def _scan(self, prefix: str) -> Iterator[dict[str, Any]]:
        arguments: dict[str, Any] = {"ConsistentRead": True}
        if prefix:
            arguments["FilterExpression"] = Attr("pk").begins_with(prefix)
        while True:
            page = self._table.scan(**arguments)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]


if TYPE_CHECKING:
    # mypy proves the DynamoDB state implements the port.
    _state_check: PlatformState = DynamoDBPlatformState(table=...)  # type: ignore[arg-type]
