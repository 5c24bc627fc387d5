"""DynamoDB persistence of batches, jobs, Step 6 progress and the audit trail.

Single table, access patterns:
- job by id ............ pk=JOB#<job_id>      sk=JOB
- a job's audit trail .. pk=JOB#<job_id>      sk=EVENT#<iso time>#<unique>   (oldest first;
                          the oldest of a bounded event type are deleted: trim_events)
- batch by id .......... pk=BATCH#<batch_id>  sk=BATCH
- jobs of a batch ...... gsi1pk=BATCH#<batch_id>        gsi1sk=JOB#<created>#<job_id>
- batches of an org .... gsi1pk=ORG#<org_id>#BATCHES    gsi1sk=<created_at>

Every write that changes who owns a job, or its status, is conditional; a job status change and
the batch's job counters move together in one transaction, so counts never drift.

Sizes (state.models): a job item is checked against JOB_ITEM_LIMIT_BYTES when it is created, and
every sub-step output against MAX_OUTPUT_BYTES before it is written (ItemTooLargeError, nothing
written); errors are truncated at MAX_ERROR_CHARS by the models. What Step 6 can add to a job is
thereby bounded by STEP6_RESERVE_BYTES, so a job item never reaches DynamoDB's limit.

The suite in tests/repository runs all of this against moto and DynamoDB Local; where the two
engines differ, docs/dynamodb-local.md says how, and the code below notes it where it matters.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError
from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from state.errors import (
    ConflictError,
    ItemTooLargeError,
    NotFoundError,
    SupersededExecutionError,
)
from state.item_size import item_size, value_size
from state.models import (
    JOB_ITEM_LIMIT_BYTES,
    MAX_OUTPUT_BYTES,
    AuditEvent,
    Batch,
    Job,
    JobStatus,
    PhaseName,
    PhaseStatus,
    SubStepProgress,
    utc_now,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.service_resource import Table

GSI1 = "gsi1"
JOB_SK = "JOB"
BATCH_SK = "BATCH"


def _job_pk(job_id: str) -> str:
    return f"JOB#{job_id}"


def _batch_pk(batch_id: str) -> str:
    return f"BATCH#{batch_id}"


def to_item(model: BaseModel) -> dict[str, Any]:
    """A model as a DynamoDB item: numbers as Decimal, no floats."""
    loaded: dict[str, Any] = json.loads(model.model_dump_json(), parse_float=Decimal)
    return loaded


def to_attr(value: Any) -> Any:
    """Any value (models, lists of models, datetimes) as a DynamoDB attribute value."""
    return json.loads(json.dumps(to_jsonable_python(value)), parse_float=Decimal)


def from_item(value: Any) -> Any:
    """DynamoDB's Decimals back to int/float, recursively."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: from_item(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_item(v) for v in value]
    return value


def job_item(job: Job) -> dict[str, Any]:
    """A job as the item stored for it, keys included."""
    return to_item(job) | {
        "pk": _job_pk(job.job_id),
        "sk": JOB_SK,
        "gsi1pk": _batch_pk(job.batch_id),
        "gsi1sk": f"JOB#{job.created_at.isoformat()}#{job.job_id}",
    }


# Why a transaction was cancelled that means "the item is not in the state you expected".
# TransactionConflict: another transaction was changing the same item at that moment.
_CONFLICT_REASONS = frozenset({"ConditionalCheckFailed", "TransactionConflict"})


def _is_condition_failure(error: ClientError) -> bool:
    code = error.response.get("Error", {}).get("Code")
    if code == "ConditionalCheckFailedException":
        return True
    if code != "TransactionCanceledException":
        return False
    # A cancelled transaction is a conflict only for these reasons. DynamoDB (and DynamoDB Local)
    # also cancel a transaction for a ValidationError, e.g. an item over the size limit, where
    # moto raises a plain ValidationException: that is not "a run is already active".
    reasons = error.response.get("CancellationReasons")
    if reasons is None:
        message = error.response.get("Error", {}).get("Message", "")
        return any(reason in message for reason in _CONFLICT_REASONS)
    return any(reason.get("Code") in _CONFLICT_REASONS for reason in reasons)


def _is_item_too_large(error: ClientError) -> bool:
    """DynamoDB refused an item over its size limit (plain or inside a cancelled transaction)."""
    details = error.response.get("Error", {})
    messages = [details.get("Message", "")] if details.get("Code") == "ValidationException" else []
    messages += [
        reason.get("Message", "")
        for reason in error.response.get("CancellationReasons", [])
        if reason.get("Code") == "ValidationError"
    ]
    return any("Item size" in message for message in messages)


def _check_output(job_id: str, sub_step: str, item: Mapping[str, Any]) -> None:
    output = item.get("output")
    if output is None:
        return
    size = value_size(output)
    if size > MAX_OUTPUT_BYTES:
        raise ItemTooLargeError(
            f"job {job_id}: the output of sub-step {sub_step} is {size} bytes; the limit is "
            f"{MAX_OUTPUT_BYTES} (state.models.MAX_OUTPUT_BYTES): large results belong in the "
            "object store, with their keys in the output"
        )


@dataclass(frozen=True)
class StatusChange:
    """A job status transition, applied to the batch counters in the same transaction."""

    batch_id: str
    old: JobStatus
    new: JobStatus


class JobRepository:
    def __init__(self, table: Table) -> None:
        self._table = table
        self._client: DynamoDBClient = table.meta.client

    # ------------------------------------------------------------------ batches

    def create_batch(self, batch: Batch, jobs: list[Job]) -> None:
        counts: dict[str, int] = {status.value: 0 for status in JobStatus}
        for job in jobs:
            counts[job.status.value] += 1
        batch = batch.model_copy(
            update={"job_counts": {JobStatus(k): v for k, v in counts.items()}}
        )
        item = to_item(batch) | {
            "pk": _batch_pk(batch.batch_id),
            "sk": BATCH_SK,
            "gsi1pk": f"ORG#{batch.org_id}#BATCHES",
            "gsi1sk": batch.created_at.isoformat(),
        }
        job_items = [job_item(job) for job in jobs]
        for job_row in job_items:
            size = item_size(job_row)
            if size > JOB_ITEM_LIMIT_BYTES:
                raise ItemTooLargeError(
                    f"job {job_row['job_id']} ({job_row['restaurant']['name']}) would be "
                    f"{size} bytes; a new job may be at most {JOB_ITEM_LIMIT_BYTES} "
                    "(state.models.JOB_ITEM_LIMIT_BYTES), which keeps room for Step 6 under "
                    "DynamoDB's 400 KB item limit: shorten the menu or its descriptions"
                )
        # The batch goes first and is conditional, so a repeated id cannot overwrite one.
        try:
            self._table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
        except ClientError as error:
            if _is_condition_failure(error):
                raise ConflictError(f"batch {batch.batch_id} already exists") from error
            raise
        with self._table.batch_writer() as writer:
            for job_row in job_items:
                writer.put_item(Item=job_row)

    def get_batch(self, org_id: str, batch_id: str) -> Batch:
        item = self._table.get_item(
            Key={"pk": _batch_pk(batch_id), "sk": BATCH_SK}, ConsistentRead=True
        ).get("Item")
        if item is None or item.get("org_id") != org_id:
            raise NotFoundError(f"batch {batch_id} not found")
        return Batch.model_validate(_strip_keys(item))

    def list_batches(self, org_id: str) -> list[Batch]:
        items = self._query(
            IndexName=GSI1,
            KeyConditionExpression=Key("gsi1pk").eq(f"ORG#{org_id}#BATCHES"),
            ScanIndexForward=False,
        )
        return [Batch.model_validate(_strip_keys(item)) for item in items]

    def list_jobs(self, batch_id: str) -> list[Job]:
        items = self._query(
            IndexName=GSI1, KeyConditionExpression=Key("gsi1pk").eq(_batch_pk(batch_id))
        )
        # The index is eventually consistent: read each job's latest state only where needed.
        return [Job.model_validate(_strip_keys(item)) for item in items]

    def _query(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        while True:
            page = self._table.query(**kwargs)
            yield from page.get("Items", [])
            start = page.get("LastEvaluatedKey")
            if start is None:
                return
            kwargs["ExclusiveStartKey"] = start

    # ------------------------------------------------------------------ jobs

    def get_job(self, job_id: str) -> Job:
        item = self._table.get_item(
            Key={"pk": _job_pk(job_id), "sk": JOB_SK}, ConsistentRead=True
        ).get("Item")
        if item is None:
            raise NotFoundError(f"job {job_id} not found")
        return Job.model_validate(_strip_keys(item))

    def get_job_for_org(self, org_id: str, job_id: str) -> Job:
        job = self.get_job(job_id)
        if job.org_id != org_id:
            raise NotFoundError(f"job {job_id} not found")
        return job

    def update_job(
        self,
        job: Job,
        *,
        set_fields: Mapping[str, Any],
        condition: str,
        values: Mapping[str, Any] | None = None,
        names: Mapping[str, str] | None = None,
        status_change: JobStatus | None = None,
        conflict: type[ConflictError] = ConflictError,
        conflict_message: str = "the job changed meanwhile",
    ) -> None:
        """Set top-level fields of `job` under `condition`, moving batch counters with it.

        `set_fields` maps attribute names to new values (models are serialised). When
        `status_change` is given, the job's status moves from `job.status` to it and the
        batch's counters move in the same transaction.
        """
        # DynamoDB rejects an update expression whose paths overlap (moto 5.2.5 too).
        overlapping = {"updated_at", "status"} & set(set_fields)
        if overlapping:
            raise ValueError(f"update_job sets {sorted(overlapping)} itself")
        expr_names = {f"#f{i}": name for i, name in enumerate(set_fields)} | dict(names or {})
        expr_values = {f":f{i}": to_attr(value) for i, value in enumerate(set_fields.values())} | {
            k: to_attr(v) for k, v in (values or {}).items()
        }
        assignments = [f"#f{i} = :f{i}" for i in range(len(set_fields))]
        expr_names["#updated_at"] = "updated_at"
        expr_values[":updated_at"] = utc_now().isoformat()
        assignments.append("#updated_at = :updated_at")
        if status_change is not None:
            expr_names["#status"] = "status"
            expr_values[":new_status"] = status_change.value
            expr_values[":old_status"] = job.status.value
            assignments.append("#status = :new_status")
            condition = f"({condition}) AND #status = :old_status"
        update: dict[str, Any] = {
            "Key": {"pk": _job_pk(job.job_id), "sk": JOB_SK},
            "UpdateExpression": "SET " + ", ".join(assignments),
            "ConditionExpression": condition,
            "ExpressionAttributeNames": expr_names,
            "ExpressionAttributeValues": expr_values,
        }
        # DynamoDB makes each conditional write atomic, so one claim wins a race; moto 5.2.5 does
        # not (check, then write, no lock): races are tested on DynamoDB Local only.
        try:
            if status_change is None or status_change == job.status:
                self._table.update_item(**update)
                return
            self._transact_with_counts(
                update, StatusChange(job.batch_id, job.status, status_change)
            )
        except ClientError as error:
            if _is_item_too_large(error):
                raise ItemTooLargeError(
                    f"job {job.job_id}: DynamoDB refused the update, the item would be over its "
                    "size limit"
                ) from error
            if _is_condition_failure(error):
                current = self._peek_active_execution(job.job_id)
                raise conflict(conflict_message, active_execution=current) from error
            raise

    def _transact_with_counts(self, job_update: dict[str, Any], change: StatusChange) -> None:
        # The resource's client serialises plain Python values itself, as the Table does.
        counts_update = {
            "TableName": self._table.name,
            "Key": {"pk": _batch_pk(change.batch_id), "sk": BATCH_SK},
            "UpdateExpression": "ADD job_counts.#old :minus, job_counts.#new :plus "
            "SET updated_at = :now",
            "ExpressionAttributeNames": {"#old": change.old.value, "#new": change.new.value},
            "ExpressionAttributeValues": {":minus": -1, ":plus": 1, ":now": utc_now().isoformat()},
        }
        items: list[Any] = [
            {"Update": {"TableName": self._table.name, **job_update}},
            {"Update": counts_update},
        ]
        self._client.transact_write_items(TransactItems=items)

    def _peek_active_execution(self, job_id: str) -> str | None:
        item = self._table.get_item(
            Key={"pk": _job_pk(job_id), "sk": JOB_SK},
            ConsistentRead=True,
            ProjectionExpression="active_execution",
        ).get("Item")
        value = (item or {}).get("active_execution")
        return value if isinstance(value, str) else None

    # ------------------------------------------------------------------ step 6 checkpoints

    def checkpoint_sub_step(
        self,
        job_id: str,
        execution_arn: str,
        phase: PhaseName,
        sub_step: str,
        progress: SubStepProgress,
    ) -> None:
        """Persist one sub-step's state; only the execution that owns the job may write."""
        item = to_item(progress)
        _check_output(job_id, sub_step, item)
        self._owned_update(
            job_id,
            execution_arn,
            "SET step6_progress.phases.#phase.sub_steps.#sub = :progress, updated_at = :now",
            names={"#phase": phase, "#sub": sub_step},
            values={":progress": item},
        )

    def set_phase_status(
        self,
        job_id: str,
        execution_arn: str,
        phase: PhaseName,
        status: PhaseStatus,
        *,
        last_completed_phase: PhaseName | None,
        skips: Mapping[str, SubStepProgress] | None = None,
    ) -> None:
        """Record a phase's status (and, in the same write, sub-steps it skipped)."""
        names: dict[str, str] = {"#phase": phase, "#status": "status"}
        values: dict[str, Any] = {
            ":status": status.value,
            ":current": phase,
            ":last": last_completed_phase,
        }
        assignments = [
            "step6_progress.phases.#phase.#status = :status",
            "step6_progress.current_phase = :current",
            "step6_progress.last_completed_phase = :last",
            "updated_at = :now",
        ]
        for i, (name, progress) in enumerate((skips or {}).items()):
            names[f"#s{i}"] = name
            values[f":s{i}"] = to_item(progress)
            _check_output(job_id, name, values[f":s{i}"])
            assignments.append(f"step6_progress.phases.#phase.sub_steps.#s{i} = :s{i}")
        self._owned_update(
            job_id, execution_arn, "SET " + ", ".join(assignments), names=names, values=values
        )

    def _owned_update(
        self,
        job_id: str,
        execution_arn: str,
        expression: str,
        *,
        names: dict[str, str],
        values: dict[str, Any],
    ) -> None:
        try:
            self._table.update_item(
                Key={"pk": _job_pk(job_id), "sk": JOB_SK},
                UpdateExpression=expression,
                ConditionExpression="active_execution = :execution",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values
                | {":execution": execution_arn, ":now": utc_now().isoformat()},
            )
        except ClientError as error:
            if _is_item_too_large(error):
                raise ItemTooLargeError(
                    f"job {job_id}: DynamoDB refused the update, the item would be over its "
                    "size limit"
                ) from error
            if _is_condition_failure(error):
                raise SupersededExecutionError(
                    f"execution {execution_arn} no longer owns job {job_id}",
                    active_execution=self._peek_active_execution(job_id),
                ) from error
            raise

    # ------------------------------------------------------------------ audit trail

    def append_event(self, job_id: str, event_type: str, detail: Mapping[str, Any]) -> None:
        self._table.put_item(Item=_event_item(job_id, event_type, detail))

    def append_events(self, events: list[tuple[str, str, Mapping[str, Any]]]) -> None:
        """Append (job_id, type, detail) events in batches of 25 (a batch's creation)."""
        with self._table.batch_writer() as writer:
            for job_id, event_type, detail in events:
                writer.put_item(Item=_event_item(job_id, event_type, detail))

    def trim_events(self, job_id: str, event_type: str, keep: int) -> int:
        """Delete the job's oldest `event_type` events beyond the newest `keep`; return how many.

        The domain decides which events are bounded and how many stay (domain.step6).
        """
        items = list(
            self._query(
                KeyConditionExpression=Key("pk").eq(_job_pk(job_id))
                & Key("sk").begins_with("EVENT#"),
                FilterExpression=Attr("type").eq(event_type),
                ProjectionExpression="pk, sk",
                ScanIndexForward=True,
            )
        )
        excess = items[: max(0, len(items) - keep)]
        with self._table.batch_writer() as writer:
            for item in excess:
                writer.delete_item(Key={"pk": item["pk"], "sk": item["sk"]})
        return len(excess)

    def list_events(self, job_id: str) -> list[AuditEvent]:
        items = self._query(
            KeyConditionExpression=Key("pk").eq(_job_pk(job_id)) & Key("sk").begins_with("EVENT#"),
            ScanIndexForward=True,
        )
        return [AuditEvent.model_validate(_strip_keys(item)) for item in items]


def _event_item(job_id: str, event_type: str, detail: Mapping[str, Any]) -> dict[str, Any]:
    at = utc_now()
    event = AuditEvent(job_id=job_id, at=at, type=event_type, detail=dict(detail))
    return to_item(event) | {
        "pk": _job_pk(job_id),
        "sk": f"EVENT#{at.isoformat()}#{uuid.uuid4().hex[:8]}",
    }


_KEY_ATTRS = ("pk", "sk", "gsi1pk", "gsi1sk")


def _strip_keys(item: Mapping[str, Any]) -> dict[str, Any]:
    plain: dict[str, Any] = from_item({k: v for k, v in item.items() if k not in _KEY_ATTRS})
    return plain
