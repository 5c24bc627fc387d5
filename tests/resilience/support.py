"""Helpers of the resilience suite: reference outputs, ledger checks, stored item sizes."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import boto3
from boto3.dynamodb.conditions import Key

from clients.platform import CallMeta
from clients.simulator import PlatformSimulator
from domain.catalogue import CATALOGUE
from domain.onboarding import NewBatch, create_batch
from local.runtime import RECONCILER_ID, LocalRuntime
from local.samples import restaurant_data
from local.template import function_arn
from state.models import (
    AuditEvent,
    Job,
    StepStatus,
    SubStepProgress,
    SubStepStatus,
)
from state.repository import JobRepository
from tests.reference import reference_outputs as reference_outputs  # the suite's yardstick

T = TypeVar("T")


def sub_steps(job: Job) -> dict[str, SubStepProgress]:
    return {
        name: sub
        for phase in job.step6_progress.phases.values()
        for name, sub in phase.sub_steps.items()
    }


def statuses(job: Job) -> dict[str, SubStepStatus]:
    return {name: sub.status for name, sub in sub_steps(job).items()}


def outputs(job: Job) -> dict[str, dict[str, Any] | None]:
    return {name: sub.output for name, sub in sub_steps(job).items()}


# ---------------------------------------------------------------- exactly once


@dataclass(frozen=True)
class LedgerReport:
    """One job's side effects as the simulator's ledger and objects show them."""

    counts: dict[str, int]  # sub-step → times its effect took effect (under its key)
    calls: dict[str, int]  # sub-step → times the effect was asked for
    entries_per_sub_step: dict[str, int]  # ledger entries (distinct keys) per sub-step
    objects_per_sub_step: dict[str, int]  # platform objects made for the job, per sub-step

    @property
    def duplicates(self) -> int:
        """Effects beyond the first, however they came about (same key or another one)."""
        return (
            sum(c - 1 for c in self.counts.values() if c > 1)
            + sum(n - 1 for n in self.entries_per_sub_step.values() if n > 1)
            + sum(n - 1 for n in self.objects_per_sub_step.values() if n > 1)
        )


def ledger_report(simulator: PlatformSimulator, job_id: str) -> LedgerReport:
    effects = simulator.effects_for(job_id)
    objects = [o for o in simulator.objects() if o.job_id == job_id]
    return LedgerReport(
        counts={e.sub_step: e.count for e in effects},
        calls={e.sub_step: e.calls for e in effects},
        entries_per_sub_step=dict(Counter(e.sub_step for e in effects)),
        objects_per_sub_step=dict(Counter(o.sub_step for o in objects)),
    )


# ---------------------------------------------------------------- audit trail


def event_index(events: list[AuditEvent], predicate: Callable[[AuditEvent], bool]) -> int:
    """The index of the first event that matches, or -1."""
    return next((i for i, e in enumerate(events) if predicate(e)), -1)


def names_failure_of(sub_step: str) -> Callable[[AuditEvent], bool]:
    """An event that records `sub_step` failing: its own event, or a run's last failure."""

    def matches(event: AuditEvent) -> bool:
        if event.type == "sub_step_failed":
            return bool(event.detail.get("sub_step") == sub_step)
        if event.type in ("run_failed", "run_succeeded"):
            failure = event.detail.get("last_failure") or {}
            return bool(failure.get("sub_step") == sub_step)
        return False

    return matches


# ---------------------------------------------------------------- storage and time


def stored_job_item(table_name: str, job_id: str) -> dict[str, Any]:
    item = (
        boto3.resource("dynamodb")
        .Table(table_name)
        .get_item(Key={"pk": f"JOB#{job_id}", "sk": "JOB"}, ConsistentRead=True)
        .get("Item")
    )
    assert item is not None
    return dict(item)


def stored_size(item: dict[str, Any]) -> int:
    """The stored item's size as its JSON (an upper bound of DynamoDB's own count)."""
    return len(json.dumps(item, default=str).encode())


def wait_until(
    probe: Callable[[], T | None], *, timeout_s: float = 30, interval_s: float = 0.02
) -> T:
    """Poll `probe` until it returns something truthy; fail the test at the deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"condition not met within {timeout_s}s")
        time.sleep(interval_s)


# ---------------------------------------------------------------- jobs, small and disposable

# The smallest menu on which every sub-step has real work: one item with an image, an option
# set and a tag. moto's DynamoDB costs grow with the item's size; the matrix runs ~200 runs.
SMALL_MENU: dict[str, Any] = {
    "menu_id": "m-small-1",
    "categories": [
        {
            "name": "Coffee",
            "items": [
                {
                    "name": "Flat white",
                    "price": 5.5,
                    "image_url": "https://small.example/fw.jpg",
                    "option_sets": [{"name": "Milk", "options": [{"name": "Oat", "price": 0.8}]}],
                    "tags": ["vegan-option"],
                }
            ],
        }
    ],
}


def create_small_job(jobs: JobRepository, org_id: str, name: str) -> Job:
    """A one-job batch for restaurant `name` (its own email), with `SMALL_MENU`."""
    request = NewBatch.model_validate(
        {"name": name, "restaurants": [restaurant_data(name, menu=SMALL_MENU)]}
    )
    _, (job,) = create_batch(jobs, org_id, request)
    return job


# Step 5's menu switches for `SMALL_MENU`: everything on (Harness.submit(job, menu=...)).
SMALL_MENU_CONFIG: dict[str, Any] = {
    "selectedMenuId": SMALL_MENU["menu_id"],
    "uploadImages": True,
    "addOptionSets": True,
    "addItemTags": True,
}


def purge_job(table_name: str, job: Job) -> None:
    """Delete a finished job's items (job, audit trail, batch) from the table.

    moto's TransactWriteItems deep-copies every table it touches (its rollback), so each job
    status change costs in proportion to everything stored: a long suite keeps the table small.
    """
    table = boto3.resource("dynamodb").Table(table_name)
    keys = [
        {"pk": f"JOB#{job.job_id}", "sk": "JOB"},
        {"pk": f"BATCH#{job.batch_id}", "sk": "BATCH"},
    ]
    page = table.query(
        KeyConditionExpression=Key("pk").eq(f"JOB#{job.job_id}") & Key("sk").begins_with("EVENT#"),
        ProjectionExpression="pk, sk",
    )
    keys += [{"pk": item["pk"], "sk": item["sk"]} for item in page.get("Items", [])]
    with table.batch_writer() as writer:
        for key in keys:
            writer.delete_item(Key=key)


def describe(execution_arn: str) -> dict[str, Any]:
    return dict(boto3.client("stepfunctions").describe_execution(executionArn=execution_arn))


def deliver_status_change(runtime: LocalRuntime, execution_arn: str) -> Any:
    """Hand the execution's status-change event to the reconciler, as EventBridge would."""
    event = runtime.status_change_event(describe(execution_arn))
    result, error_type = runtime.lambdas.invoke(function_arn(RECONCILER_ID, runtime.region), event)
    assert error_type is None, result
    return result


class Gate:
    """Holds one platform call of one job until the test releases it: a call in flight.

    Installed over a simulator operation (e.g. `register_restaurant`) for `job_id`'s first
    call: the call waits for `release` before it reaches the platform, and `entered` tells
    the test it is waiting. Deterministic where a latency fault would race the test.
    """

    def __init__(self, simulator: PlatformSimulator, operation: str, job_id: str) -> None:
        self.entered = threading.Event()
        self.released = threading.Event()
        self._original = getattr(simulator, operation)
        self._job_id = job_id
        self._used = False
        self._lock = threading.Lock()
        setattr(simulator, operation, self._call)
        self._undo = lambda: delattr(simulator, operation)

    def _call(self, meta: CallMeta, **kwargs: Any) -> Any:
        with self._lock:
            hold = meta.job_id == self._job_id and not self._used
            self._used = self._used or hold
        if hold:
            self.entered.set()
            if not self.released.wait(60):
                raise TimeoutError("the gate was never released")
        return self._original(meta, **kwargs)

    def wait_entered(self, timeout_s: float = 30) -> None:
        if not self.entered.wait(timeout_s):
            raise AssertionError(f"the gated call did not start within {timeout_s}s")

    def release(self) -> None:
        self.released.set()

    def remove(self) -> None:
        self.release()
        self._undo()


def assert_as_if_uninterrupted(simulator: PlatformSimulator, job: Job) -> LedgerReport:
    """The job completed every sub-step with an uninterrupted run's outputs, and every side
    effect on the platform happened exactly once. Returns the ledger for further checks."""
    assert job.status == StepStatus.COMPLETED
    assert set(statuses(job).values()) == {SubStepStatus.COMPLETED}
    assert outputs(job) == reference_outputs(job)
    report = ledger_report(simulator, job.job_id)
    assert report.counts == {s.name: 1 for s in CATALOGUE} and report.duplicates == 0
    return report
