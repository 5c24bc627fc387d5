"""Given-steps and probes shared by the repository suite (data comes from tests/factories)."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import boto3

from domain.claims import claim_new_run, execution_name, with_step
from domain.outcome import ExecutionStatus
from domain.settlement import settle_execution
from domain.summary import job_counts
from local.dynamodb_local import CREDENTIALS, REGION
from state.item_size import item_size
from state.models import Batch, Job, StepStatus, tally_of
from state.repository import JobRepository, restaurant_item
from tests.factories import make_config, make_job, make_restaurant

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import DynamoDBServiceResource, Table


@dataclass(frozen=True)
class Engine:
    """moto (in process) or DynamoDB Local (its endpoint URL)."""

    name: str
    endpoint_url: str | None

    def resource(self) -> DynamoDBServiceResource:
        """A new resource on its own session; explicit credentials, as no AWS account is used."""
        session = boto3.session.Session(region_name=REGION, **CREDENTIALS)
        return session.resource("dynamodb", endpoint_url=self.endpoint_url)


ORG = "org-a"
OTHER_ORG = "org-b"
NAMES = ("Cafe Aroha", "Kai Kitchen", "Harbour Dumplings", "Te Aro Tacos", "Moana Pies")


def execution_arn(job: Job, run: int) -> str:
    name = execution_name(job.job_id, run)
    return f"arn:aws:states:us-east-1:123456789012:execution:Step6:{name}"


def given_batch(
    repo: JobRepository, jobs: int = 1, *, org: str = ORG, name: str = "Wellington November"
) -> tuple[Batch, list[Job]]:
    """A stored batch of `jobs` jobs, each waiting at Step 5 (action_required)."""
    batch_id = uuid.uuid4().hex
    new_jobs = [make_job(NAMES[i % len(NAMES)], batch_id=batch_id, org_id=org) for i in range(jobs)]
    repo.create_batch(Batch(batch_id=batch_id, org_id=org, name=name), new_jobs)
    return repo.get_batch(org, batch_id), new_jobs


def given_claimed(repo: JobRepository, job: Job) -> tuple[Job, str]:
    """`job` claimed by a new run, Step 5 completed in the same write (as submit_step5 does)."""
    job = repo.get_job(job.job_id)
    arn = execution_arn(job, job.run_number + 1)
    claim_new_run(
        repo,
        job,
        arn,
        steps=with_step(job.steps, 5, StepStatus.COMPLETED),
        execution_config=job.execution_config or make_config(),
    )
    return repo.get_job(job.job_id), arn


def given_settled(
    repo: JobRepository, job: Job, status: ExecutionStatus = ExecutionStatus.FAILED
) -> tuple[Job, str]:
    """`job` claimed by a new run that then ended with `status`."""
    job, arn = given_claimed(repo, job)
    cause = None if status == ExecutionStatus.SUCCEEDED else "States.TaskFailed: boom"
    settle_execution(repo, job.job_id, arn, status, cause)
    return repo.get_job(job.job_id), arn


def other_handles(engine: Engine, table: Table, count: int) -> list[Table]:
    """The same table through `count` resources of one new session: one per thread."""
    session = boto3.session.Session(region_name=REGION, **CREDENTIALS)
    return [
        session.resource("dynamodb", endpoint_url=engine.endpoint_url).Table(table.name)
        for _ in range(count)
    ]


def stored_job_item(table: Table, job_id: str) -> dict[str, Any]:
    """The job item exactly as the engine stores it (keys included)."""
    item: dict[str, Any] = table.get_item(
        Key={"pk": f"JOB#{job_id}", "sk": "JOB"}, ConsistentRead=True
    )["Item"]
    return item


@contextmanager
def unchanged_job_item(table: Table, job_id: str) -> Iterator[None]:
    """Checks that the block leaves the job item exactly as the engine stored it before (not
    even updated_at moves). Outside `pytest.raises`, so that it checks after a refusal too."""
    before = stored_job_item(table, job_id)
    yield
    assert stored_job_item(table, job_id) == before


def stored_job_size(table: Table, job_id: str) -> int:
    """The stored job item's size by DynamoDB's formula (which DynamoDB Local matches)."""
    return item_size(stored_job_item(table, job_id))


def write_units(table: Table, item: dict[str, Any]) -> Decimal:
    """Write capacity DynamoDB Local charges for putting `item` afresh: ceil(size / 1 KB).

    The item is copied under a new key of the same length, so the count is its own size (a put
    over an existing item is charged for the larger of the two); only the table's units are
    counted (the TOTAL adds the GSI's write of the same item). moto charges a flat 1.0.
    """
    key_pk = item["pk"]
    copy = dict(item, pk=key_pk[:-8] + uuid.uuid4().hex[:8])
    response = table.put_item(Item=copy, ReturnConsumedCapacity="INDEXES")
    table.delete_item(Key={"pk": copy["pk"], "sk": copy["sk"]})
    consumed = response["ConsumedCapacity"]
    units: Decimal = Decimal(str(consumed.get("Table", consumed)["CapacityUnits"]))
    return units


def batch_counts(repo: JobRepository, batch_id: str) -> dict[StepStatus, int]:
    """The batch's counts as the API derives them: from its jobs' listings (the index)."""
    return job_counts(repo.list_listings(batch_id))


def status_tally(repo: JobRepository, jobs: list[Job]) -> dict[StepStatus, int]:
    """What the batch counters should say: every status, counted from the jobs themselves."""
    stored = [repo.get_job(job.job_id) for job in jobs]
    counts = Counter(tally_of(job.status, job.steps) for job in stored)
    return {status: counts.get(status, 0) for status in StepStatus}


def job_of_size(size: int, batch_id: str) -> Job:
    """A new job whose item is exactly `size` bytes: a menu with long descriptions."""
    base = make_job(batch_id=batch_id)
    data = base.restaurant.model_dump(mode="json")

    def job_with(items: int, last: int, trim: int = 0) -> Job:
        # `items` specials of 2,000 characters, the first shortened by `trim`, the last `last`.
        lengths = [2_000] * items
        lengths[0] -= trim
        lengths[-1] = last
        specials = [
            {"name": f"Special {i}", "price": 9.5, "description": "d" * length}
            for i, length in enumerate(lengths)
        ]
        categories = [*data["menu"]["categories"], {"name": "Specials", "items": specials}]
        restaurant = make_restaurant(**dict(data, menu=dict(data["menu"], categories=categories)))
        return base.model_copy(update={"restaurant": restaurant})

    def measure(items: int, last: int, trim: int = 0) -> int:
        return item_size(restaurant_item(job_with(items, last, trim)))

    items = 2
    while measure(items, 2_000) < size:  # the fewest specials that can reach `size`
        items += 1
    trim = max(0, measure(items, 0) - size)  # a new item's own overhead may overshoot
    low, high = 0, 2_000  # the last description: one byte of item per character
    while low < high:
        middle = (low + high + 1) // 2
        if measure(items, middle, trim) <= size:
            low = middle
        else:
            high = middle - 1
    job = job_with(items, low, trim)
    assert item_size(restaurant_item(job)) == size
    return job
