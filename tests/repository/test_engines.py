"""Where moto and DynamoDB Local could disagree on what our writes rely on.

Each test states what both engines do (so that the repository can rely on it), or pins down a
difference that docs/dynamodb-local.md describes. The conditional writes themselves (claims,
checkpoints, the outcome) are covered on both engines by the other modules of this suite.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from botocore.exceptions import ClientError

from state.attrs import to_attr
from state.errors import ItemTooLargeError
from state.models import Batch, RunRecord, StepStatus
from state.repository import JobRepository
from tests.repository.support import (
    ORG,
    Engine,
    batch_counts,
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
    # (docs/architecture.md §10.4 says moto accepts this: moto 5.2.5 does not)
    with pytest.raises(ClientError, match="Two document paths overlap") as raised:
        table.update_item(
            Key=key,
            UpdateExpression="SET step6_progress = :p, step6_progress.current_phase = :c",
            ExpressionAttributeValues={":p": {}, ":c": "phase1"},
        )
    assert raised.value.response["Error"]["Code"] == "ValidationException"


def test_the_repository_own_update_paths_never_overlap(repo: JobRepository) -> None:
    # Given a job held by run 1 (a claim: many fields with a status change, in a transaction)
    batch, (job,) = given_batch(repo)
    claimed, arn = given_claimed(repo, job)

    # When every other multi-path write runs: skips, then a settle (many fields, every
    # sub-step's status and attempts in its condition, a status change)
    repo.record_skips(
        job.job_id,
        arn,
        "phase1",
        {"uploadImages": claimed.step6_progress.sub_step("phase1", "uploadImages")},
    )
    repo.settle_run(
        claimed,
        arn,
        status=StepStatus.ACTION_REQUIRED,
        current_step=6,
        steps=claimed.steps,
        progress=claimed.step6_progress,
        last_failure=None,
    )

    # Then both engines accept them (DynamoDB Local rejects overlapping paths like AWS)
    assert repo.get_job(job.job_id).status == StepStatus.ACTION_REQUIRED
    assert batch_counts(repo, batch.batch_id) == status_tally(repo, [job])


@pytest.mark.parametrize("with_status_change", [True, False], ids=["transaction", "update"])
def test_an_update_over_the_item_limit_is_reported_as_too_large(
    repo: JobRepository, table: Table, engine: Engine, with_status_change: bool
) -> None:
    # Given a job held by run 1 whose item holds a 200 KB sub-step output, and a second output
    # of 235 KB: each value is under the item limit by itself (a value over it is refused up
    # front, with a ValidationException, by both engines) but not the two together
    batch = Batch(batch_id="b-large", org_id=ORG, name="Large")
    job = job_of_size(20_000, batch.batch_id)
    repo.create_batch(batch, [job])
    _, arn = given_claimed(repo, job)
    first = job_of_size(200_000, job.batch_id).restaurant.model_dump(mode="json")
    table.update_item(
        Key={"pk": f"JOB#{job.job_id}", "sk": "JOB"},
        UpdateExpression="SET step6_progress.phases.phase1.sub_steps.cloudwaitressAccount.#o = :o",
        ExpressionAttributeNames={"#o": "output"},
        ExpressionAttributeValues={":o": to_attr({"huge": first})},
    )
    claimed = repo.get_job(job.job_id)
    before = stored_job_item(table, job.job_id)
    # moto 5.2.5 checks no item total on an update, only each value against its own 405,000
    # bytes: there the output is one value over that (docs/dynamodb-local.md)
    size = 410_000 if engine.name == "moto" else 235_000
    huge = job_of_size(size, job.batch_id).restaurant

    # When a settle (alone, or with the run's history row in a transaction) would store it
    progress = claimed.step6_progress.model_copy(deep=True)
    progress.phases["phase1"].sub_steps["codeGeneration"].output = {
        "huge": huge.model_dump(mode="json")
    }
    run = RunRecord(
        job_id=job.job_id,
        run=1,
        execution_arn=arn,
        trigger="step5",
        actor="system",
        started_at=claimed.updated_at,
    )
    with pytest.raises(ItemTooLargeError, match="size limit") as raised:
        repo.settle_run(
            claimed,
            arn,
            status=StepStatus.ACTION_REQUIRED if with_status_change else StepStatus.IN_PROGRESS,
            current_step=6,
            steps=claimed.steps,
            progress=progress,
            last_failure=None,
            run=run if with_status_change else None,
        )

    # Then it is reported as too large (not as a conflict) and nothing changed (moto 5.2.5
    # applies a plain update before it measures the item, and keeps it: a gap of moto's only)
    if with_status_change or engine.name != "moto":
        assert stored_job_item(table, job.job_id) == before
    assert batch_counts(repo, batch.batch_id) == status_tally(repo, [job])
    # How each engine said so: DynamoDB Local, like AWS, cancels the transaction with a
    # ValidationError reason (which the repository once reported as "a run is already
    # active"); moto raises a plain ValidationException either way
    cause = raised.value.__cause__
    assert isinstance(cause, ClientError)
    code = cause.response["Error"]["Code"]
    if code == "TransactionCanceledException":  # DynamoDB Local, for some transactions
        assert with_status_change and engine.name == "dynamodb_local"
        assert cause.response["CancellationReasons"][0]["Code"] == "ValidationError"
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
