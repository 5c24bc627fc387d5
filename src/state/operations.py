"""Bulk operations in the jobs table: the operation, its per-job outcomes, its client token.

Access patterns (docs/architecture.md §13):

| what | key |
|---|---|
| an operation | `pk=OP#<id>`, `sk=OP` (consistent GetItem) |
| its per-job outcomes | `pk=OP#<id>`, `sk=JOB#<job_id>` (Query; `outcome` filtered) |
| an org's operations | index `listing`: `lpk=ORG#<org_id>#OPERATIONS`, `lsk=<created_at>#<id>` |
| a client token | `pk=OPTOKEN#<org_id>#<token>`, `sk=OPTOKEN` (conditional put) |

Counts are derived from the outcome items (one item per job, written by that job's item
task): there is no shared counter that every job's outcome would have to update.
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field

from state.attrs import from_item, to_attr, to_item
from state.errors import NotFoundError
from state.models import utc_now
from state.pages import query_all

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

    from state.repository import JobRepository

LISTING_INDEX = "listing"  # the jobs table's listing index (state.repository)
OP_SK = "OP"
TOKEN_SK = "OPTOKEN"
_STATUSES = {":queued": "queued", ":running": "running"}

OperationAction = Literal["resume_step6", "submit_step5", "cancel"]
OperationStatus = Literal["queued", "running", "completed", "cancelled", "failed"]
# `starting`: the item task recorded itself and is claiming the job; `running`: its run started.
ItemOutcome = Literal["starting", "running", "succeeded", "failed", "rejected", "cancelled"]
FINAL_OUTCOMES: frozenset[str] = frozenset({"succeeded", "failed", "rejected", "cancelled"})
TERMINAL_STATUSES: frozenset[str] = frozenset({"completed", "cancelled", "failed"})


class _Stored(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Operation(_Stored):
    operation_id: str
    org_id: str
    action: OperationAction
    # The selector as given, without `job_ids` (kept in the item list in S3): `job_count` says
    # how many were named.
    selector: dict[str, Any]
    max_concurrency: int
    matched: int
    actor: str
    status: OperationStatus = "queued"
    items_key: str
    config_key: str | None = None
    password_secret_ref: str | None = None
    generate_passwords: bool = False
    client_token: str | None = None
    request_hash: str | None = None
    execution_arn: str | None = None
    cancel_requested_at: datetime | None = None
    cancelled_by: str | None = None
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)
    ended_at: datetime | None = None
    # The per-job outcomes' tally, written once when the operation ends (its items no longer
    # change), so that reading an ended operation queries none of them.
    final_counts: dict[str, int] | None = None


class OperationItem(_Stored):
    operation_id: str
    job_id: str
    outcome: ItemOutcome = "starting"
    restaurant_name: str | None = None
    code: str | None = None
    reason: str | None = None
    execution_arn: str | None = None
    task_token: str | None = None
    # Set by the one write that decided the outcome: whoever wins it answers the token.
    answered_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utc_now)


class TokenConflictError(Exception):
    """The client token names an operation made from another body."""

    def __init__(self, operation_id: str) -> None:
        super().__init__(f"client_token is already used by operation {operation_id}")
        self.operation_id = operation_id


def _op_pk(operation_id: str) -> str:
    return f"OP#{operation_id}"


def _org_ops(org_id: str) -> str:
    return f"ORG#{org_id}#OPERATIONS"


def _item_sk(job_id: str) -> str:
    return f"JOB#{job_id}"


def _token_key(org_id: str, token: str) -> dict[str, str]:
    return {"pk": f"OPTOKEN#{org_id}#{token}", "sk": TOKEN_SK}


def _is_condition_failure(error: ClientError) -> bool:
    code = error.response.get("Error", {}).get("Code")
    return code in ("ConditionalCheckFailedException", "TransactionCanceledException")


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(from_item(key)).encode()).decode()


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    """A cursor this module made, or ValueError."""
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError("cursor is not one this API returned") from error
    if not isinstance(key, dict) or not all(isinstance(v, str) for v in key.values()):
        raise ValueError("cursor is not one this API returned")
    return key


class OperationRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    @classmethod
    def beside(cls, jobs: JobRepository) -> OperationRepository:
        """The operations kept in the jobs repository's table."""
        return cls(jobs._table)

    # ------------------------------------------------------------------ operations

    def create(self, op: Operation) -> Operation:
        """Store a new operation; with a client token, the token first (conditional).

        The same token and request hash again returns the stored operation; another hash
        raises TokenConflictError. Nothing else is written in that case.
        """
        if op.client_token is not None:
            try:
                self._table.put_item(
                    Item=_token_key(op.org_id, op.client_token)
                    | {
                        "org_id": op.org_id,
                        "operation_id": op.operation_id,
                        "request_hash": op.request_hash,
                    },
                    ConditionExpression="attribute_not_exists(pk)",
                )
            except ClientError as error:
                if not _is_condition_failure(error):
                    raise
                existing = self._table.get_item(
                    Key=_token_key(op.org_id, op.client_token), ConsistentRead=True
                )["Item"]
                if existing.get("request_hash") != op.request_hash:
                    raise TokenConflictError(str(existing["operation_id"])) from error
                return self.get(op.org_id, str(existing["operation_id"]))
        self._table.put_item(
            Item=to_item(op)
            | {
                "pk": _op_pk(op.operation_id),
                "sk": OP_SK,
                "lpk": _org_ops(op.org_id),
                "lsk": f"{op.created_at.isoformat()}#{op.operation_id}",
            },
            ConditionExpression="attribute_not_exists(pk)",
        )
        return op

    def find_by_token(self, org_id: str, token: str) -> tuple[str, str | None] | None:
        """(operation id, request hash) a token was given to, if any."""
        item = self._table.get_item(Key=_token_key(org_id, token), ConsistentRead=True).get("Item")
        if item is None:
            return None
        digest = item.get("request_hash")
        return str(item["operation_id"]), None if digest is None else str(digest)

    def get_any(self, operation_id: str) -> Operation:
        item = self._table.get_item(
            Key={"pk": _op_pk(operation_id), "sk": OP_SK}, ConsistentRead=True
        ).get("Item")
        if item is None:
            raise NotFoundError(f"operation {operation_id} not found")
        return Operation.model_validate(from_item(item))

    def get(self, org_id: str, operation_id: str) -> Operation:
        op = self.get_any(operation_id)
        if op.org_id != org_id:
            raise NotFoundError(f"operation {operation_id} not found")
        return op

    def list_for_org(
        self, org_id: str, cursor: dict[str, Any] | None, limit: int
    ) -> tuple[list[Operation], dict[str, Any] | None]:
        """A page of the org's operations, newest first. The index projects only the listing
        attributes (state.repository), so it finds the page's keys and the operations are read
        whole with one consistent BatchGetItem."""
        kwargs: dict[str, Any] = {
            "IndexName": LISTING_INDEX,
            "KeyConditionExpression": Key("lpk").eq(_org_ops(org_id)),
            "ScanIndexForward": False,
            "Limit": limit,
            "ProjectionExpression": "pk",
        }
        if cursor:
            if (
                set(cursor) != {"pk", "sk", "lpk", "lsk"}
                or cursor["lpk"] != _org_ops(org_id)
                or cursor["sk"] != OP_SK
                or not cursor["pk"].startswith("OP#")
                or not cursor["lsk"]
            ):
                raise ValueError("cursor is not one this API returned")
            kwargs["ExclusiveStartKey"] = cursor
        page = self._table.query(**kwargs)
        ids = [str(item["pk"]).removeprefix("OP#") for item in page.get("Items", [])]
        return self._get_many(ids), page.get("LastEvaluatedKey")

    def _get_many(self, operation_ids: list[str]) -> list[Operation]:
        """The named operations, in the order given (at most 100: one BatchGetItem)."""
        if not operation_ids:
            return []
        pending: dict[str, Any] = {
            self._table.name: {
                "Keys": [{"pk": _op_pk(i), "sk": OP_SK} for i in operation_ids],
                "ConsistentRead": True,
            }
        }
        found: dict[str, Operation] = {}
        while pending:
            answer = self._table.meta.client.batch_get_item(RequestItems=pending)
            for item in answer.get("Responses", {}).get(self._table.name, []):
                op = Operation.model_validate(from_item(item))
                found[op.operation_id] = op
            pending = dict(answer.get("UnprocessedKeys") or {})
        return [found[i] for i in operation_ids if i in found]

    def _update(self, operation_id: str, values: dict[str, Any], condition: str) -> bool:
        names = {f"#{k}": k for k in values}
        attrs = {f":{k}": to_attr(v) for k, v in values.items()}
        try:
            self._table.update_item(
                Key={"pk": _op_pk(operation_id), "sk": OP_SK},
                UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in values),
                ConditionExpression=condition,
                ExpressionAttributeNames=names
                | ({"#status": "status"} if "#status" in condition else {}),
                ExpressionAttributeValues=attrs
                | {k: v for k, v in _STATUSES.items() if k in condition},
            )
        except ClientError as error:
            if _is_condition_failure(error):
                return False
            raise
        return True

    def mark_started(self, operation_id: str, execution_arn: str) -> None:
        self._update(
            operation_id,
            {"execution_arn": execution_arn, "updated_at": utc_now()},
            "attribute_exists(pk)",
        )

    def request_cancel(self, operation_id: str, actor: str) -> bool:
        """Note the cancel (items not yet started will not start); False if already ended."""
        now = utc_now()
        return self._update(
            operation_id,
            {"cancel_requested_at": now, "cancelled_by": actor, "updated_at": now},
            "#status IN (:queued, :running)",
        )

    def finish(
        self, operation_id: str, status: OperationStatus, counts: Mapping[str, int] | None
    ) -> bool:
        """The final status (and counts, when final), written once (the state machine's last
        state)."""
        now = utc_now()
        final = None if counts is None else dict(counts)
        return self._update(
            operation_id,
            {"status": status, "final_counts": final, "ended_at": now, "updated_at": now},
            "#status IN (:queued, :running)",
        )

    def forget_password(self, operation_id: str) -> None:
        """Clear the operation's password reference (its ciphertext: clients.secrets)."""
        self._update(
            operation_id,
            {"password_secret_ref": None, "updated_at": utc_now()},
            "attribute_exists(pk)",
        )

    def mark_running(self, operation_id: str) -> None:
        """queued → running, once (the first item; later ones change nothing)."""
        now = utc_now()
        self._update(operation_id, {"status": "running", "updated_at": now}, "#status = :queued")

    # ------------------------------------------------------------------ items

    def get_item(self, operation_id: str, job_id: str) -> OperationItem | None:
        item = self._table.get_item(
            Key={"pk": _op_pk(operation_id), "sk": _item_sk(job_id)}, ConsistentRead=True
        ).get("Item")
        return None if item is None else OperationItem.model_validate(from_item(item))

    def record_item(self, operation_id: str, job_id: str, task_token: str) -> OperationItem | None:
        """The first invocation for this job records it (None); a later one gets the item as
        it stands, with `task_token` now the one to answer (unless it was answered already)."""
        item = OperationItem(operation_id=operation_id, job_id=job_id, task_token=task_token)
        try:
            self._table.put_item(
                Item=to_item(item) | {"pk": _op_pk(operation_id), "sk": _item_sk(job_id)},
                ConditionExpression="attribute_not_exists(pk)",
            )
            return None
        except ClientError as error:
            if not _is_condition_failure(error):
                raise
        # Seen before (a redrive, a retried invocation): the new token is the one waiting.
        self._update_item(
            operation_id,
            job_id,
            {"task_token": task_token, "updated_at": utc_now()},
            "attribute_not_exists(answered_at) OR attribute_type(answered_at, :null)",
        )
        found = self.get_item(operation_id, job_id)
        assert found is not None
        return found

    def _update_item(
        self, operation_id: str, job_id: str, values: dict[str, Any], condition: str
    ) -> bool:
        try:
            self._table.update_item(
                Key={"pk": _op_pk(operation_id), "sk": _item_sk(job_id)},
                UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in values),
                ConditionExpression=condition,
                ExpressionAttributeNames={f"#{k}": k for k in values},
                ExpressionAttributeValues={f":{k}": to_attr(v) for k, v in values.items()}
                | {":null": "NULL"},
            )
        except ClientError as error:
            if _is_condition_failure(error):
                return False
            raise
        return True

    def item_started(
        self, operation_id: str, job_id: str, execution_arn: str, restaurant_name: str
    ) -> bool:
        """The job's run started (unless its outcome was decided meanwhile: it settled)."""
        return self._update_item(
            operation_id,
            job_id,
            {
                "outcome": "running",
                "execution_arn": execution_arn,
                "restaurant_name": restaurant_name,
                "updated_at": utc_now(),
            },
            "attribute_not_exists(answered_at) OR attribute_type(answered_at, :null)",
        )

    def decide_item(
        self,
        operation_id: str,
        job_id: str,
        outcome: ItemOutcome,
        *,
        code: str | None = None,
        reason: str | None = None,
        restaurant_name: str | None = None,
        execution_arn: str | None = None,
    ) -> bool:
        """Write the item's final outcome, once: True for the one writer that decided it."""
        values: dict[str, Any] = {
            "outcome": outcome,
            "code": code,
            "reason": reason,
            "answered_at": utc_now(),
            "updated_at": utc_now(),
        }
        if restaurant_name is not None:
            values["restaurant_name"] = restaurant_name
        if execution_arn is not None:
            values["execution_arn"] = execution_arn
        return self._update_item(
            operation_id,
            job_id,
            values,
            "attribute_exists(pk) AND "
            "(attribute_not_exists(answered_at) OR attribute_type(answered_at, :null))",
        )

    def list_items(
        self,
        operation_id: str,
        outcome: str | None,
        cursor: dict[str, Any] | None,
        limit: int,
    ) -> tuple[list[OperationItem], dict[str, Any] | None]:
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key("pk").eq(_op_pk(operation_id))
            & Key("sk").begins_with("JOB#"),
            "Limit": limit,
        }
        if outcome is not None:
            # `starting` (claiming its job) is reported as running, in the counts too
            wanted = ["starting", "running"] if outcome == "running" else [outcome]
            kwargs["FilterExpression"] = Attr("outcome").is_in(wanted)
        if cursor:
            # a start key outside the query's range is DynamoDB's ValidationException (a 5xx):
            # check it is one of this operation's items
            if (
                set(cursor) != {"pk", "sk"}
                or cursor["pk"] != _op_pk(operation_id)
                or not cursor["sk"].startswith("JOB#")
                or cursor["sk"] == "JOB#"
            ):
                raise ValueError("cursor is not one this API returned")
            kwargs["ExclusiveStartKey"] = cursor
        found: list[OperationItem] = []
        # A filtered page may come back short or empty: read on until the page is full.
        while True:
            page = self._table.query(**kwargs)
            found.extend(OperationItem.model_validate(from_item(i)) for i in page.get("Items", []))
            last = page.get("LastEvaluatedKey")
            if last is None or len(found) >= limit:
                return found[:limit], (last if last is not None else None)
            kwargs["ExclusiveStartKey"] = last
            kwargs["Limit"] = limit - len(found)

    def outcome_counts(self, operation_id: str) -> Counter[str]:
        """How many of the operation's jobs have each outcome (starting counts as running)."""
        counts: Counter[str] = Counter()
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key("pk").eq(_op_pk(operation_id))
            & Key("sk").begins_with("JOB#"),
            "ProjectionExpression": "outcome",
        }
        for item in self._query(**kwargs):
            outcome = str(item.get("outcome", "starting"))
            counts["running" if outcome == "starting" else outcome] += 1
        return counts

    def recorded_job_ids(self, operation_id: str) -> set[str]:
        """The jobs of the operation that have an item (whatever its outcome)."""
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key("pk").eq(_op_pk(operation_id))
            & Key("sk").begins_with("JOB#"),
            "ProjectionExpression": "job_id",
        }
        return {str(item["job_id"]) for item in self._query(**kwargs)}

    def _query(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        return query_all(self._table, **kwargs)
