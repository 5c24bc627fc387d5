"""DynamoDB persistence of batches, jobs, Step 6 progress and the audit trail.

Single table, access patterns:
- job by id ............ pk=JOB#<job_id>      sk=JOB             (its standing and progress)
- its restaurant ....... pk=JOB#<job_id>      sk=JOB#RESTAURANT  (write-once: menu, branding)
                          both read together by ONE consistent Query, begins_with(sk, "JOB")
- a job's audit trail .. pk=JOB#<job_id>      sk=EVENT#<iso time>#<unique>   (oldest first;
                          the oldest of a bounded event type are deleted: trim_events)
- a job's runs ......... pk=JOB#<job_id>      sk=RUN#<slot>, slot = (n - 1) mod RUNS_KEPT: a
                          ring, so run n overwrites run n - RUNS_KEPT (bounded, no deletes)
- batch by id .......... pk=BATCH#<batch_id>  sk=BATCH
- jobs of a batch ...... index `listing`: lpk=BATCH#<batch_id>      lsk=JOB#<created>#<job_id>
- batches of an org .... index `listing`: lpk=ORG#<org_id>#BATCHES  lsk=<created_at>
- failures of an org ... index `failures` (sparse): fpk=ORG#<org_id>#FAILED
                          fsk=<batch_id>#<job_id>, set only while the job needs action

Both indexes project only LISTED (INCLUDE): a job's top-level standing and its `summary` map,
never its progress, config or restaurant, so a checkpoint (which changes none of them) costs
no index write. The summary is derived by the domain: the repository is given `summarize`
(a `state.models.Summarize`, built in handlers.wiring) and calls it on the job as it will be
after every write that changes the job's standing, writing the summary in that same
UpdateItem. Injected rather than passed by each caller so that no standing change can forget
it, and so that the state layer never imports the domain.

Every write that changes who owns a job, or its status, is conditional. No write touches the
batch item after its creation: the batch's counts are derived from its jobs' listings
(domain), so jobs settling together never contend on one item.

Sizes (state.models): a new job's restaurant item is checked against JOB_ITEM_LIMIT_BYTES when
it is created, and every sub-step output against MAX_OUTPUT_BYTES before it is written
(ItemTooLargeError, nothing written); errors are truncated at MAX_ERROR_CHARS by the models.
What Step 6 can add to the job item is thereby bounded by STEP6_RESERVE_BYTES.

The suite in tests/repository runs all of this against moto and DynamoDB Local; where the two
engines differ, docs/dynamodb-local.md says how, and the code below notes it where it matters.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Attr, ConditionBase, Key
from botocore.exceptions import ClientError

from state.attrs import from_item, to_attr, to_item
from state.errors import (
    ConflictError,
    ItemTooLargeError,
    NotFoundError,
    SupersededExecutionError,
)
from state.fields import TRUSTED_STORED
from state.item_size import check_output, item_size
from state.models import (
    JOB_ITEM_LIMIT_BYTES,
    RUNS_KEPT,
    SYSTEM_ACTOR,
    AuditEvent,
    Batch,
    ExecutionConfig,
    Job,
    JobListing,
    JobSummaryFields,
    LastFailure,
    PhaseName,
    Pipeline,
    Prospect,
    Restaurant,
    RunRecord,
    Step6Progress,
    StepState,
    StepStatus,
    SubStepProgress,
    Summarize,
    utc_now,
)
from state.pages import query_all

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.service_resource import Table

LISTING_INDEX = "listing"
FAILURES_INDEX = "failures"
JOB_SK = "JOB"
RESTAURANT_SK = "JOB#RESTAURANT"
BATCH_SK = "BATCH"
# What both indexes project (template.yaml's JobsTable must list the same).
LISTED = (
    "job_id",
    "batch_id",
    "org_id",
    "name",
    "status",
    "current_step",
    "steps",
    "last_failure",
    "active_execution",
    "created_at",
    "summary",
)
# BatchGetItem's most keys per call.
_BATCH_GET_KEYS = 100


def _job_pk(job_id: str) -> str:
    return f"JOB#{job_id}"


def _batch_pk(batch_id: str) -> str:
    return f"BATCH#{batch_id}"


def _run_key(job_id: str, run: int) -> dict[str, str]:
    return {"pk": _job_pk(job_id), "sk": f"RUN#{(run - 1) % RUNS_KEPT:02d}"}


def _compact(fields: Mapping[str, Any]) -> dict[str, Any]:
    """A sub-step's progress (or a summary) as stored: its None fields left out (the model
    reads them back as None), so the job item, billed whole on every checkpoint, stays small.
    A sub-step's status and attempts are never None: the settlement's condition on them always
    finds them."""
    return {k: v for k, v in fields.items() if v is not None}


def _compact_progress(progress: Any) -> Any:
    """A stored `step6_progress` with every sub-step compacted (`_compact`)."""
    return {
        "phases": {
            phase: {"sub_steps": {name: _compact(sub) for name, sub in p["sub_steps"].items()}}
            for phase, p in progress["phases"].items()
        }
    }


def _failures_pk(org_id: str) -> str:
    return f"ORG#{org_id}#FAILED"


def job_item(job: Job, summary: JobSummaryFields) -> dict[str, Any]:
    """A job's own item (without its restaurant), keys and summary included."""
    item = to_item(job)
    del item["restaurant"]
    item["step6_progress"] = _compact_progress(item["step6_progress"])
    item |= {
        "pk": _job_pk(job.job_id),
        "sk": JOB_SK,
        "lpk": _batch_pk(job.batch_id),
        "lsk": f"JOB#{job.created_at.isoformat()}#{job.job_id}",
        "summary": _compact(to_item(summary)),
    }
    if summary.needs_action:
        item |= {"fpk": _failures_pk(job.org_id), "fsk": f"{job.batch_id}#{job.job_id}"}
    return item


def restaurant_item(job: Job) -> dict[str, Any]:
    """The write-once part of a job, its restaurant (menu, branding), as an item of its own."""
    return {"pk": _job_pk(job.job_id), "sk": RESTAURANT_SK, "restaurant": to_item(job.restaurant)}


# A job is free when no execution holds it; None is stored as a NULL attribute.
_NOT_ACTIVE = "(attribute_not_exists(active_execution) OR attribute_type(active_execution, :null))"
_NULL = {":null": "NULL"}


def _progress_as_read(job: Job) -> tuple[str, dict[str, str], dict[str, Any]]:
    """A condition that holds while every sub-step's status and attempts are as in `job`.

    Each checkpoint moves a status or an attempt count, so comparing both catches every one.
    """
    clauses: list[str] = []
    names: dict[str, str] = {"#sst": "status"}
    values: dict[str, Any] = {}
    i = 0
    for phase, progress in job.step6_progress.phases.items():
        for name, sub in progress.sub_steps.items():
            path = f"step6_progress.phases.#ph{i}.sub_steps.#ss{i}"
            names |= {f"#ph{i}": phase, f"#ss{i}": name}
            values |= {f":st{i}": sub.status.value, f":at{i}": sub.attempts}
            clauses.append(f"{path}.#sst = :st{i} AND {path}.attempts = :at{i}")
            i += 1
    return " AND ".join(clauses) or "attribute_exists(step6_progress)", names, values


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


@dataclass(frozen=True)
class Page:
    """One page of a query: its items, and where the next starts (None: the last page)."""

    items: list[Any]
    next_key: dict[str, Any] | None


class JobRepository:
    def __init__(self, table: Table, *, summarize: Summarize) -> None:
        self._table = table
        self._client: DynamoDBClient = table.meta.client
        self._summarize = summarize

    # ------------------------------------------------------------------ batches

    def create_batch(self, batch: Batch, jobs: list[Job]) -> None:
        item = to_item(batch) | {
            "pk": _batch_pk(batch.batch_id),
            "sk": BATCH_SK,
            "lpk": f"ORG#{batch.org_id}#BATCHES",
            "lsk": batch.created_at.isoformat(),
        }
        del item["job_counts"]  # derived from the jobs, never stored
        rows: list[dict[str, Any]] = []
        for job in jobs:
            restaurant = restaurant_item(job)
            size = item_size(restaurant)
            if size > JOB_ITEM_LIMIT_BYTES:
                raise ItemTooLargeError(
                    f"job {job.job_id} ({job.restaurant.name}) would be "
                    f"{size} bytes; a new job may be at most {JOB_ITEM_LIMIT_BYTES} "
                    "(state.models.JOB_ITEM_LIMIT_BYTES), which keeps room for Step 6 under "
                    "DynamoDB's 400 KB item limit: shorten the menu or its descriptions"
                )
            rows += [job_item(job, self._summarize(job)), restaurant]
        # The batch goes first and is conditional, so a repeated id cannot overwrite one.
        try:
            self._table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
        except ClientError as error:
            if _is_condition_failure(error):
                raise ConflictError(f"batch {batch.batch_id} already exists") from error
            raise
        with self._table.batch_writer() as writer:
            for row in rows:
                writer.put_item(Item=row)

    def get_batch(self, org_id: str, batch_id: str) -> Batch:
        item = self._table.get_item(
            Key={"pk": _batch_pk(batch_id), "sk": BATCH_SK}, ConsistentRead=True
        ).get("Item")
        if item is None or item.get("org_id") != org_id:
            raise NotFoundError(f"batch {batch_id} not found")
        return Batch.model_validate(_strip_keys(item), context=TRUSTED_STORED)

    def list_batches(self, org_id: str, *, limit: int, start: dict[str, Any] | None = None) -> Page:
        """A page of the org's batches, newest first (`start`: a previous page's next_key;
        ValueError for any other)."""
        kwargs: dict[str, Any] = {
            "IndexName": LISTING_INDEX,
            "KeyConditionExpression": Key("lpk").eq(f"ORG#{org_id}#BATCHES"),
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if start is not None:
            # a start key outside the query's range is DynamoDB's ValidationException (a 5xx)
            if (
                set(start) != {"pk", "sk", "lpk", "lsk"}
                or start["lpk"] != f"ORG#{org_id}#BATCHES"
                or start["sk"] != BATCH_SK
                or not str(start["pk"]).startswith("BATCH#")
                or not start["lsk"]
            ):
                raise ValueError("not a start key of this org's batches")
            kwargs["ExclusiveStartKey"] = start
        page = self._table.query(**kwargs)
        batches = [
            Batch.model_validate(_strip_keys(i), context=TRUSTED_STORED) for i in page["Items"]
        ]
        # A full page may be the last: DynamoDB still returns a key, the next page is empty.
        return Page(batches, page.get("LastEvaluatedKey"))

    def list_listings(self, batch_id: str) -> list[JobListing]:
        """The listings of a batch's jobs, oldest first (eventually consistent: the index)."""
        items = self._query(
            IndexName=LISTING_INDEX,
            KeyConditionExpression=Key("lpk").eq(_batch_pk(batch_id))
            & Key("lsk").begins_with("JOB#"),
        )
        return [_listing(item) for item in items]

    def list_failures(self, org_id: str, batch_id: str | None = None) -> list[JobListing]:
        """The listings of the org's jobs that need action (of one batch, when given)."""
        condition: ConditionBase = Key("fpk").eq(_failures_pk(org_id))
        if batch_id is not None:
            condition = condition & Key("fsk").begins_with(f"{batch_id}#")
        items = self._query(IndexName=FAILURES_INDEX, KeyConditionExpression=condition)
        return [_listing(item) for item in items]

    def list_jobs(self, batch_id: str) -> list[Job]:
        """Every job of a batch, whole and as stored (the index finds them, consistent reads
        fetch them)."""
        items = self._query(
            IndexName=LISTING_INDEX,
            KeyConditionExpression=Key("lpk").eq(_batch_pk(batch_id))
            & Key("lsk").begins_with("JOB#"),
            ProjectionExpression="job_id",
        )
        return self.get_jobs([item["job_id"] for item in items])

    def get_jobs(self, job_ids: list[str]) -> list[Job]:
        """The named jobs that exist, in the order given (consistent BatchGetItem reads)."""
        wanted = list(dict.fromkeys(job_ids))
        keys = [
            {"pk": _job_pk(job_id), "sk": sk} for job_id in wanted for sk in (JOB_SK, RESTAURANT_SK)
        ]
        found: dict[str, list[dict[str, Any]]] = {}
        for item in self._batch_get(keys):
            found.setdefault(str(item["pk"]), []).append(item)
        jobs = []
        for job_id in wanted:
            parts = found.get(_job_pk(job_id), [])
            if any(part["sk"] == JOB_SK for part in parts):
                jobs.append(_job_of(parts))
        return jobs

    def restaurant_names(self, job_ids: list[str]) -> dict[str, str]:
        """The named jobs' restaurant names, from their own items' summaries only (never the
        restaurant item, menu and all): for lists that show a name per job."""
        keys = [{"pk": _job_pk(job_id), "sk": JOB_SK} for job_id in dict.fromkeys(job_ids)]
        names: dict[str, str] = {}
        for item in self._batch_get(
            keys,
            projection="job_id, #summary.restaurant_name",
            names={"#summary": "summary"},
        ):
            name = item.get("summary", {}).get("restaurant_name")
            if isinstance(name, str):
                names[str(item["job_id"])] = name
        return names

    def _batch_get(
        self,
        keys: list[dict[str, str]],
        *,
        projection: str | None = None,
        names: dict[str, str] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Consistent BatchGetItem reads of `keys`, in calls of at most _BATCH_GET_KEYS, the
        unprocessed keys asked again."""
        shape: dict[str, Any] = {"ConsistentRead": True}
        if projection is not None:
            shape["ProjectionExpression"] = projection
        if names:
            shape["ExpressionAttributeNames"] = names
        for at in range(0, len(keys), _BATCH_GET_KEYS):
            pending: dict[str, Any] = {
                self._table.name: {"Keys": keys[at : at + _BATCH_GET_KEYS], **shape}
            }
            while pending:
                answer = self._client.batch_get_item(RequestItems=pending)
                for item in answer.get("Responses", {}).get(self._table.name, []):
                    yield dict(item)
                pending = dict(answer.get("UnprocessedKeys") or {})

    def _query(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        return query_all(self._table, **kwargs)

    # ------------------------------------------------------------------ jobs

    def get_job(self, job_id: str) -> Job:
        """The job and its restaurant, in one consistent Query."""
        parts = list(
            self._query(
                KeyConditionExpression=Key("pk").eq(_job_pk(job_id)) & Key("sk").begins_with("JOB"),
                ConsistentRead=True,
            )
        )
        if not any(part["sk"] == JOB_SK for part in parts):
            raise NotFoundError(f"job {job_id} not found")
        return _job_of(parts)

    def get_job_for_org(self, org_id: str, job_id: str) -> Job:
        job = self.get_job(job_id)
        if job.org_id != org_id:
            raise NotFoundError(f"job {job_id} not found")
        return job

    # ------------------------------------------------------------------ claims and outcomes

    def claim_new_run(
        self,
        job: Job,
        execution_arn: str,
        *,
        steps: list[StepState],
        run: RunRecord | None = None,
        execution_config: ExecutionConfig | None = None,
        progress: Step6Progress | None = None,
    ) -> None:
        """Claim a free job for its next run (ConflictError if a run holds it or it moved on),
        and open its row in the runs history.

        With `execution_config` (Step 5's submission) the config is stored in the same write,
        so Step 5 completes exactly when the job's first run is claimed. With `progress` (an
        operator's re-run, which resets sub-steps) the progress is replaced in the same write,
        conditional on it being as read.
        """
        fields: dict[str, Any] = {
            "active_execution": execution_arn,
            "latest_execution": execution_arn,
            "run_number": job.run_number + 1,
            "current_step": 6,
            "steps": steps,
        }
        if run is not None:
            fields["runs_recorded"] = run.run
        condition = f"{_NOT_ACTIVE} AND run_number = :previous_run"
        names: dict[str, str] = {}
        values: dict[str, Any] = _NULL | {":previous_run": job.run_number}
        if execution_config is not None:
            fields["execution_config"] = execution_config
        if progress is not None:
            fields["step6_progress"] = progress
            unchanged, names, as_read = _progress_as_read(job)
            condition = f"{condition} AND {unchanged}"
            values |= as_read
        self._update_job(
            job,
            fields,
            condition=condition,
            values=values,
            names=names,
            status=StepStatus.IN_PROGRESS,
            also=self._run_opened(run),
            conflict_message="a Step 6 run is already active for this job",
        )

    def reclaim_for_redrive(
        self,
        job: Job,
        execution_arn: str,
        *,
        steps: list[StepState],
        run: RunRecord | None = None,
    ) -> None:
        """Hand a free job back to its latest execution, being redriven (a row of its own in
        the runs history).

        SupersededExecutionError when a newer run has claimed the job since.
        """
        self._update_job(
            job,
            {"active_execution": execution_arn, "steps": steps, "current_step": 6}
            | ({"runs_recorded": run.run} if run is not None else {}),
            condition=f"{_NOT_ACTIVE} AND latest_execution = :arn",
            values=_NULL | {":arn": execution_arn},
            status=StepStatus.IN_PROGRESS,
            also=self._run_opened(run),
            conflict=SupersededExecutionError,
            conflict_message=f"execution {execution_arn} was superseded",
        )

    def _run_opened(self, run: RunRecord | None) -> list[dict[str, Any]]:
        """The transaction item that puts `run` in its slot of the history (over the run
        RUNS_KEPT before it)."""
        return self._run_closed(run)

    def get_run(self, job_id: str, run: int) -> RunRecord | None:
        item = self._table.get_item(Key=_run_key(job_id, run), ConsistentRead=True).get("Item")
        if item is None or item.get("run") != run:
            return None  # the slot holds a newer run (or none yet)
        return RunRecord.model_validate(_strip_keys(item), context=TRUSTED_STORED)

    def list_runs(self, job_id: str) -> list[RunRecord]:
        """The job's runs, newest first (the newest RUNS_KEPT, one per slot of the ring)."""
        items = self._query(
            KeyConditionExpression=Key("pk").eq(_job_pk(job_id)) & Key("sk").begins_with("RUN#")
        )
        runs = [RunRecord.model_validate(_strip_keys(i), context=TRUSTED_STORED) for i in items]
        return sorted(runs, key=lambda r: r.run, reverse=True)

    def release_claim(
        self, job: Job, execution_arn: str, *, steps: list[StepState], status: StepStatus
    ) -> None:
        """Give back a claim whose execution never started (`job` as read after the claim)."""
        self._update_job(
            job,
            {"active_execution": None, "steps": steps},
            condition="active_execution = :arn",
            values={":arn": execution_arn},
            status=status,
        )

    def settle_run(
        self,
        job: Job,
        execution_arn: str,
        *,
        status: StepStatus,
        current_step: int,
        steps: list[StepState],
        progress: Step6Progress,
        last_failure: LastFailure | None,
        run: RunRecord | None = None,
    ) -> None:
        """Record a finished run's outcome (and its row in the runs history, when it has one)
        and free the job, if nothing moved since `job`.

        Conditional on the execution still owning the job and on every sub-step's status and
        attempts being as read: a Lambda still running for the execution (StopExecution does
        not stop it) may checkpoint between the read and this write, and the outcome must not
        put back what that checkpoint recorded. ConflictError when either moved.
        """
        unchanged, names, values = _progress_as_read(job)
        self._update_job(
            job,
            {
                "active_execution": None,
                "current_step": current_step,
                "steps": steps,
                "step6_progress": progress,
                "last_failure": last_failure,
            },
            condition=f"active_execution = :arn AND {unchanged}",
            values={":arn": execution_arn} | values,
            names=names,
            status=status,
            also=self._run_closed(run),
        )

    def _run_closed(self, run: RunRecord | None) -> list[dict[str, Any]]:
        if run is None:
            return []
        item = to_item(run) | _run_key(run.job_id, run.run)
        return [{"Put": {"TableName": self._table.name, "Item": item}}]

    # ------------------------------------------------------------------ operator actions

    def amend_config(
        self,
        job: Job,
        config: ExecutionConfig,
        *,
        steps: list[StepState],
        status: StepStatus,
        last_failure: LastFailure | None,
    ) -> None:
        """Replace the execution config of a job no run holds (and the standing it gives the
        job), if no run has started since `job` was read (ConflictError otherwise)."""
        self._update_job(
            job,
            {"execution_config": config, "steps": steps, "last_failure": last_failure},
            condition=f"{_NOT_ACTIVE} AND run_number = :previous_run",
            values=_NULL | {":previous_run": job.run_number},
            status=status,
            conflict_message="the job changed meanwhile",
        )

    def record_operator_change(
        self,
        job: Job,
        *,
        progress: Step6Progress,
        steps: list[StepState],
        status: StepStatus,
        last_failure: LastFailure | None,
    ) -> None:
        """Write an operator's change to the progress of a job no run holds, if nothing moved
        since `job` was read; its summary follows the job's new standing."""
        unchanged, names, values = _progress_as_read(job)
        self._update_job(
            job,
            {"step6_progress": progress, "steps": steps, "last_failure": last_failure},
            condition=f"{_NOT_ACTIVE} AND run_number = :previous_run AND {unchanged}",
            values=_NULL | {":previous_run": job.run_number} | values,
            names=names,
            status=status,
        )

    def _update_job(
        self,
        job: Job,
        set_fields: Mapping[str, Any],
        *,
        condition: str,
        values: Mapping[str, Any] | None = None,
        names: Mapping[str, str] | None = None,
        status: StepStatus | None = None,
        also: list[dict[str, Any]] | None = None,
        conflict: type[ConflictError] = ConflictError,
        conflict_message: str = "the job changed meanwhile",
        peek: bool = True,
    ) -> None:
        """Set top-level fields of `job` under `condition`, with the summary they give it.

        `set_fields` maps attribute names to new values (models are serialised). When `status`
        is given, the job's status moves from `job.status` to it (conditional on `job.status`).
        The job's summary (`summarize` of the job as it will be) is written in the same update,
        and its place in the failures index set or removed with it. `also`: more transaction
        items (low-level, e.g. the runs history's row), written with the job's update or not at
        all; they never touch the batch item.
        """
        now = utc_now()
        after = job.model_copy(
            update=dict(set_fields) | {"status": status or job.status, "updated_at": now}
        )
        summary = self._summarize(after)
        expr_names = {f"#f{i}": name for i, name in enumerate(set_fields)} | dict(names or {})
        expr_values = {
            f":f{i}": _compact_progress(to_attr(value))
            if name == "step6_progress"
            else to_attr(value)
            for i, (name, value) in enumerate(set_fields.items())
        } | {k: to_attr(v) for k, v in (values or {}).items()}
        assignments = [f"#f{i} = :f{i}" for i in range(len(set_fields))]
        expr_names |= {"#updated_at": "updated_at", "#summary": "summary"}
        expr_values[":updated_at"] = now.isoformat()
        expr_values[":summary"] = _compact(to_item(summary))
        assignments += ["#updated_at = :updated_at", "#summary = :summary"]
        if summary.needs_action:
            expr_values[":fpk"] = _failures_pk(job.org_id)
            expr_values[":fsk"] = f"{job.batch_id}#{job.job_id}"
            assignments += ["fpk = :fpk", "fsk = :fsk"]
            removals = ""
        else:
            removals = " REMOVE fpk, fsk"
        if status is not None:
            expr_names["#status"] = "status"
            expr_values[":new_status"] = status.value
            expr_values[":old_status"] = job.status.value
            assignments.append("#status = :new_status")
            condition = f"({condition}) AND #status = :old_status"
        update: dict[str, Any] = {
            "Key": {"pk": _job_pk(job.job_id), "sk": JOB_SK},
            "UpdateExpression": "SET " + ", ".join(assignments) + removals,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": expr_names,
            "ExpressionAttributeValues": expr_values,
        }
        # DynamoDB makes each conditional write atomic, so one claim wins a race; moto 5.2.5 does
        # not (check, then write, no lock): races are tested on DynamoDB Local only.
        try:
            if not also:
                self._table.update_item(**update)
                return
            # The resource's client serialises plain Python values itself, as the Table does.
            items: list[Any] = [{"Update": {"TableName": self._table.name, **update}}]
            self._client.transact_write_items(TransactItems=items + also)
        except ClientError as error:
            if _is_item_too_large(error):
                raise ItemTooLargeError(
                    f"job {job.job_id}: DynamoDB refused the update, the item would be over its "
                    "size limit"
                ) from error
            if _is_condition_failure(error):
                # `peek`: read back which Step 6 run holds the job (what a 409 names)
                current = self._peek_active_execution(job.job_id) if peek else None
                raise conflict(conflict_message, active_execution=current) from error
            raise

    def _peek_pipeline_execution(self, job_id: str) -> str | None:
        """Which JobPipeline execution holds the job now (after a lost claim)."""
        item = self._table.get_item(
            Key={"pk": _job_pk(job_id), "sk": JOB_SK},
            ConsistentRead=True,
            ProjectionExpression="#pl.#ex",
            ExpressionAttributeNames={"#pl": "pipeline", "#ex": "execution"},
        ).get("Item")
        pipeline = (item or {}).get("pipeline")
        value = pipeline.get("execution") if isinstance(pipeline, dict) else None
        return value if isinstance(value, str) else None

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
        item = _compact(to_item(progress))
        check_output(sub_step, item.get("output"))
        self._owned_update(
            job_id,
            execution_arn,
            "SET step6_progress.phases.#phase.sub_steps.#sub = :progress, updated_at = :now",
            names={"#phase": phase, "#sub": sub_step},
            values={":progress": item},
        )

    def record_skips(
        self,
        job_id: str,
        execution_arn: str,
        phase: PhaseName,
        skips: Mapping[str, SubStepProgress],
    ) -> None:
        """Record several sub-steps' progress in one write (only the owning execution may):
        the sub-steps a phase skips, and those a round of the runner skips or starts together."""
        if not skips:
            return
        names: dict[str, str] = {"#phase": phase}
        values: dict[str, Any] = {}
        assignments = ["updated_at = :now"]
        for i, (name, progress) in enumerate(skips.items()):
            names[f"#s{i}"] = name
            values[f":s{i}"] = _compact(to_item(progress))
            check_output(name, progress.output)
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

    # ------------------------------------------------------------------ steps 1-4

    def claim_pipeline(
        self,
        job: Job,
        execution_arn: str,
        *,
        steps: list[StepState],
        status: StepStatus,
        current_step: int,
        pipeline: Pipeline,
        restaurant: Restaurant | Prospect | None = None,
    ) -> None:
        """Hold a job that no JobPipeline execution holds for `execution_arn` (its next run),
        with the standing it starts from, if nothing changed since `job` was read."""
        held = pipeline.model_copy(update={"execution": execution_arn})
        try:
            self._pipeline_update(
                job,
                condition="(attribute_not_exists(#pl.#ex) OR attribute_type(#pl.#ex, :null)) "
                "AND #pl.#runs = :runs",
                values=_NULL | {":runs": (job.pipeline or Pipeline()).runs},
                names={"#pl": "pipeline", "#ex": "execution", "#runs": "runs"},
                steps=steps,
                status=status,
                current_step=current_step,
                pipeline=held,
                restaurant=restaurant,
                last_failure=None,
            )
        except ConflictError as error:
            # name who holds it now (a 409 `already_running`), not a Step 6 run
            holder = self._peek_pipeline_execution(job.job_id)
            raise ConflictError(str(error), active_execution=holder) from error

    def advance_pipeline(
        self,
        job: Job,
        execution_arn: str,
        *,
        steps: list[StepState],
        status: StepStatus,
        current_step: int,
        pipeline: Pipeline,
        restaurant: Restaurant | Prospect | None = None,
        last_failure: LastFailure | None = None,
    ) -> None:
        """Record a step's outcome; only the JobPipeline execution that holds the job may
        (SupersededExecutionError otherwise). `pipeline.execution` None hands the job back."""
        try:
            self._pipeline_update(
                job,
                condition="#pl.#ex = :arn",
                values={":arn": execution_arn},
                names={"#pl": "pipeline", "#ex": "execution"},
                steps=steps,
                status=status,
                current_step=current_step,
                pipeline=pipeline,
                restaurant=restaurant,
                last_failure=last_failure,
            )
        except ConflictError as error:
            raise SupersededExecutionError(
                f"execution {execution_arn} no longer holds job {job.job_id}"
            ) from error

    def _pipeline_update(
        self,
        job: Job,
        *,
        condition: str,
        values: dict[str, Any],
        names: dict[str, str],
        steps: list[StepState],
        status: StepStatus,
        current_step: int,
        pipeline: Pipeline,
        restaurant: Restaurant | Prospect | None,
        last_failure: LastFailure | None,
    ) -> None:
        fields: dict[str, Any] = {
            "steps": steps,
            "current_step": current_step,
            "pipeline": pipeline,
            "last_failure": last_failure,
        }
        also: list[dict[str, Any]] = []
        if restaurant is not None:
            fields_after = job.model_copy(update={"restaurant": restaurant})
            item = restaurant_item(fields_after)
            size = item_size(item)
            if size > JOB_ITEM_LIMIT_BYTES:
                raise ItemTooLargeError(
                    f"the restaurant's data would be {size} bytes; a job's restaurant may be at "
                    f"most {JOB_ITEM_LIMIT_BYTES} (state.models.JOB_ITEM_LIMIT_BYTES)"
                )
            also.append({"Put": {"TableName": self._table.name, "Item": item}})
        self._update_job(
            job,
            fields,
            condition=condition,
            values=values,
            names=names,
            status=status,
            also=also or None,
            peek=False,  # what holds a job at Steps 1-4 is its pipeline execution, not a run
        )

    # ------------------------------------------------------------------ the password's secret

    def forget_password_secret(self, job_id: str, ref: str) -> bool:
        """Clear the job's reference `ref` to its deleted password secret and stamp when.

        Conditional on the job still holding `ref`, so it is idempotent and never clears a
        reference it did not mean: False when the job holds another one, or none any more.
        """
        path = "execution_config.#account"
        try:
            self._table.update_item(
                Key={"pk": _job_pk(job_id), "sk": JOB_SK},
                UpdateExpression=f"SET {path}.#ref = :none, {path}.#deleted = :now, "
                "updated_at = :now",
                ConditionExpression=f"{path}.#ref = :ref",
                ExpressionAttributeNames={
                    "#account": "account",
                    "#ref": "password_secret_ref",
                    "#deleted": "password_deleted_at",
                },
                ExpressionAttributeValues={
                    ":ref": ref,
                    ":none": None,
                    ":now": utc_now().isoformat(),
                },
            )
        except ClientError as error:
            if _is_condition_failure(error):
                return False
            raise
        return True

    # ------------------------------------------------------------------ audit trail

    def append_event(
        self,
        job_id: str,
        event_type: str,
        detail: Mapping[str, Any],
        *,
        actor: str = SYSTEM_ACTOR,
    ) -> None:
        self._table.put_item(Item=_event_item(job_id, event_type, detail, actor))

    def append_events(
        self, events: list[tuple[str, str, Mapping[str, Any]]], *, actor: str = SYSTEM_ACTOR
    ) -> None:
        """Append (job_id, type, detail) events in batches of 25 (a batch's creation)."""
        with self._table.batch_writer() as writer:
            for job_id, event_type, detail in events:
                writer.put_item(Item=_event_item(job_id, event_type, detail, actor))

    def trim_events(self, job_id: str, event_type: str, keep: int) -> int:
        """Delete the job's oldest `event_type` events beyond the newest `keep`; return how many.

        The domain decides which events are bounded and how many stay (domain.audit).
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
        return [
            AuditEvent.model_validate(_strip_keys(item), context=TRUSTED_STORED) for item in items
        ]


def _event_item(
    job_id: str, event_type: str, detail: Mapping[str, Any], actor: str
) -> dict[str, Any]:
    at = utc_now()
    event = AuditEvent(job_id=job_id, at=at, type=event_type, actor=actor, detail=dict(detail))
    return to_item(event) | {
        "pk": _job_pk(job_id),
        "sk": f"EVENT#{at.isoformat()}#{uuid.uuid4().hex[:8]}",
    }


_KEY_ATTRS = ("pk", "sk", "lpk", "lsk", "fpk", "fsk", "summary")


def _strip_keys(item: Mapping[str, Any]) -> dict[str, Any]:
    plain: dict[str, Any] = from_item({k: v for k, v in item.items() if k not in _KEY_ATTRS})
    return plain


def _job_of(parts: list[dict[str, Any]]) -> Job:
    """A job from its items: its own (sk=JOB) and its restaurant's (sk=JOB#RESTAURANT)."""
    fields: dict[str, Any] = {}
    for part in parts:
        if part["sk"] == JOB_SK:
            fields |= _strip_keys(part)
        elif part["sk"] == RESTAURANT_SK:
            fields["restaurant"] = from_item(part["restaurant"])
    return Job.model_validate(fields, context=TRUSTED_STORED)


def _listing(item: Mapping[str, Any]) -> JobListing:
    fields = from_item({k: v for k, v in item.items() if k in LISTED})
    return JobListing.model_validate(fields, context=TRUSTED_STORED)
