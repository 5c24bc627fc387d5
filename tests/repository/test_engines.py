"""Where moto and DynamoDB Local could disagree on what our writes rely on.

Each test states what both engines do (so that the repository can rely on it), or pins down a
difference that docs/dynamodb-local.md describes. The conditional writes themselves (claims,
checkpoints, the outcome) are covered on both engines by the other modules of this suite.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from botocore.exceptions import ClientError

from state.errors import ItemTooLargeError
from state.models import StepStatus
from state.repository import JobRepository
from tests.repository.support import (
    Engine,
    given_batch,
    given_claimed,
    job_of_size,
    status_tally,
    stored_job_item,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


def test_both_engines_refuse_overlapping_update_paths(repo: JobRepository, table: Table) -> None:
    # Given a stored job
    _, (job,) = given_batch(repo)
    key = {"pk": f"JOB#{job.job_id}", "sk": "JOB"}

    # When one update sets a map and a path inside it (as settle would if it also set
    # step6_progress.current_phase beside step6_progress), then both engines refuse it
    # (DESIGN section 10 says moto accepts this: moto 5.2.5 does not)
    with pytest.raises(ClientError, match="Two document paths overlap") as raised:
        table.update_item(
            Key=key,
            UpdateExpression="SET step6_progress = :p, step6_progress.current_phase = :c",
            ExpressionAttributeValues={":p": {}, ":c": "phase1"},
        )
    assert raised.value.response["Error"]["Code"] == "ValidationException"

    # And update_job refuses, before any request, to set what it sets itself
    with pytest.raises(ValueError, match="status"):
        repo.update_job(
            job,
            set_fields={"status": "completed"},
            condition="attribute_exists(pk)",
            status_change=StepStatus.COMPLETED,
        )


def test_the_repository_own_update_paths_never_overlap(repo: JobRepository) -> None:
    # Given a job held by run 1 (a claim: update_job with a status change, in a transaction)
    batch, (job,) = given_batch(repo)
    claimed, arn = given_claimed(repo, job)

    # When every other multi-path write runs: update_job setting many fields with a status
    # change (the hand-back of a claim that could not start), then a phase status with skips
    repo.update_job(
        claimed,
        set_fields={
            "active_execution": None,
            "steps": claimed.steps,
            "current_step": 6,
            "step6_progress": claimed.step6_progress,
            "last_failure": None,
        },
        condition="active_execution = :arn",
        values={":arn": arn},
        status_change=StepStatus.ACTION_REQUIRED,
    )

    # Then both engines accept them (DynamoDB Local rejects overlapping paths like AWS)
    assert repo.get_job(job.job_id).status == StepStatus.ACTION_REQUIRED
    assert repo.get_batch(batch.org_id, batch.batch_id).job_counts == status_tally(repo, [job])


@pytest.mark.parametrize("with_status_change", [True, False], ids=["transaction", "update"])
def test_an_update_over_the_item_limit_is_reported_as_too_large(
    repo: JobRepository, table: Table, engine: Engine, with_status_change: bool
) -> None:
    # Given a job held by run 1, and a restaurant under the item limit by itself (~407 KB) but
    # not with the rest of the job (a value over the limit by itself is refused up front, with
    # a ValidationException, by both engines)
    batch, (job,) = given_batch(repo)
    claimed, arn = given_claimed(repo, job)
    before = stored_job_item(table, job.job_id)
    huge = job_of_size(410_000, job.batch_id).restaurant

    # When an update (alone, or with the batch counters in a transaction) would store it
    with pytest.raises(ItemTooLargeError, match="size limit") as raised:
        repo.update_job(
            claimed,
            set_fields={"restaurant": huge},
            condition="active_execution = :arn",
            values={":arn": arn},
            status_change=StepStatus.ACTION_REQUIRED if with_status_change else None,
        )

    # Then it is reported as too large (not as a conflict) and nothing changed
    assert stored_job_item(table, job.job_id) == before
    assert repo.get_batch(batch.org_id, batch.batch_id).job_counts == status_tally(repo, [job])
    # How each engine said so: DynamoDB Local, like AWS, cancels the transaction with a
    # ValidationError reason (which the repository once reported as "a run is already
    # active"); moto raises a plain ValidationException either way
    cause = raised.value.__cause__
    assert isinstance(cause, ClientError)
    code = cause.response["Error"]["Code"]
    if with_status_change and engine.name == "dynamodb_local":
        assert code == "TransactionCanceledException"
        assert [r["Code"] for r in cause.response["CancellationReasons"]] == [
            "ValidationError",
            "None",
        ]
    else:
        assert code == "ValidationException"


def test_replacing_a_large_attribute(table: Table, engine: Engine) -> None:
    # Given an item of ~250 KB, most of it one attribute
    key = {"pk": "JOB#large", "sk": "JOB"}
    table.put_item(Item=key | {"payload": "x" * 250_000})

    # When the attribute is replaced by a smaller value
    def replace() -> None:
        table.update_item(
            Key=key,
            UpdateExpression="SET payload = :v",
            ExpressionAttributeValues={":v": "y" * 200_000},
        )

    if engine.name == "moto":
        # Then moto refuses: it checks the item's size plus the new value without taking the old
        # one off (moto.dynamodb LimitedSizeDict), so any item over ~half its limit cannot have
        # a large attribute rewritten, e.g. settle rewriting step6_progress
        with pytest.raises(ClientError, match="Item size to update has exceeded"):
            replace()
    else:
        # Then DynamoDB Local, like AWS, counts the item as it will be (~200 KB) and accepts
        replace()
        assert len(table.get_item(Key=key)["Item"]["payload"]) == 200_000
