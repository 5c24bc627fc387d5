"""Size limits: what could grow is bounded, checked before writing, and measured on the engine.

Sizes are counted with state.item_size (DynamoDB's formula). DynamoDB Local agrees with it to
the byte (its item limit is probed below with our own job item); moto counts differently and
stops earlier (docs/dynamodb-local.md), which the moto half of these tests pins down.
"""

from __future__ import annotations

import math
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

from domain.audit import EVENTS_KEPT
from domain.catalogue import CATALOGUE
from domain.claims import claim_new_run
from domain.outcome import ExecutionStatus
from domain.settlement import settle_execution
from state.errors import ItemTooLargeError, NotFoundError
from state.item_size import item_size, value_size
from state.models import (
    DYNAMODB_ITEM_LIMIT_BYTES,
    JOB_ITEM_LIMIT_BYTES,
    MAX_ERROR_CHARS,
    MAX_OUTPUT_BYTES,
    STEP6_RESERVE_BYTES,
    TRUNCATION_MARK,
    Batch,
    ErrorCode,
    Job,
    SubStepProgress,
    SubStepStatus,
    utc_now,
)
from state.repository import JobRepository
from tests.factories import make_job, sample_output
from tests.repository.support import (
    ORG,
    Engine,
    execution_arn,
    given_batch,
    given_claimed,
    job_of_size,
    stored_job_item,
    stored_job_size,
    unchanged_job_item,
    write_units,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

# The largest item each engine accepts, by DynamoDB's count (a flat item: names and strings).
ENGINE_ITEM_LIMIT = {"moto": 405_000, "dynamodb_local": DYNAMODB_ITEM_LIMIT_BYTES}
ISSUE_BUDGET_BYTES = 100_000  # "the job item stays under 100 KB after 50 failed resumes"
# An error that is long in characters and longer in bytes (2-, 3- and 4-byte UTF-8).
TOO_LARGE = "ValidationException: Item size has exceeded the maximum allowed size"
LONG_ERROR = "PlatformError: 502 from /restaurants: " + "é€😀" * 3_000


def _padded(item: dict[str, Any], size: int) -> dict[str, Any]:
    """`item` under a fresh key of the same length, padded to exactly `size` bytes."""
    copy = dict(item, pk=item["pk"][:-8] + uuid.uuid4().hex[:8])
    copy["padding"] = ""
    copy["padding"] = "x" * (size - item_size(copy))
    assert item_size(copy) == size
    return copy


def _refusal(table: Table, item: dict[str, Any]) -> str | None:
    """Why the engine refuses to store `item` ("Code: message"), or None if it stores it."""
    try:
        table.put_item(Item=item)
    except ClientError as error:
        return f"{error.response['Error']['Code']}: {error.response['Error']['Message']}"
    table.delete_item(Key={"pk": item["pk"], "sk": item["sk"]})
    return None


def _accepted(table: Table, item: dict[str, Any]) -> bool:
    refusal = _refusal(table, item)
    assert refusal in (None, TOO_LARGE), refusal
    return refusal is None


def test_each_engine_has_its_own_item_limit(table: Table, engine: Engine) -> None:
    # Given a flat item (key names and strings only: every engine counts those alike)
    flat = {"pk": "JOB#" + "0" * 32, "sk": "JOB"}

    # When it is written at the engine's limit and one byte over
    limit = ENGINE_ITEM_LIMIT[engine.name]

    # Then the limit holds to the byte: DynamoDB Local 409,600 bytes like AWS, moto 405,000
    assert _accepted(table, _padded(flat, limit))
    assert not _accepted(table, _padded(flat, limit + 1))


def test_item_size_counts_a_real_job_item_as_the_engine_does(
    repo: JobRepository, table: Table, engine: Engine
) -> None:
    # Given a stored job item with every kind of value: maps, lists, numbers, nulls, booleans
    _, (job,) = given_batch(repo)
    given_completed(repo, job, "uploadImages", attempts=3)
    stored = stored_job_item(table, job.job_id)

    if engine.name == "dynamodb_local":
        # When it is padded to exactly DynamoDB's limit by our count, then DynamoDB Local takes
        # it, and refuses it one byte over: our count is DynamoDB Local's, to the byte
        assert _accepted(table, _padded(stored, DYNAMODB_ITEM_LIMIT_BYTES))
        assert not _accepted(table, _padded(stored, DYNAMODB_ITEM_LIMIT_BYTES + 1))
        # and its write units are ceil(size / 1 KB) of the same count
        assert write_units(table, stored) == math.ceil(item_size(stored) / 1024)
    else:
        # moto counts no list or map overhead (a new job: 3,009 bytes by DynamoDB's count, 2,656
        # by moto's), so a job item over its 405,000 bytes by DynamoDB's count still fits there;
        # but its lower limit refuses one that AWS and DynamoDB Local take
        assert _accepted(table, _padded(stored, ENGINE_ITEM_LIMIT["moto"] + 1))
        assert not _accepted(table, _padded(stored, DYNAMODB_ITEM_LIMIT_BYTES))
        # and it charges a flat write unit whatever the size
        assert write_units(table, stored) == 1


def _completed(
    name: str, attempts: int = 1, output: dict[str, Any] | None = None
) -> SubStepProgress:
    now = utc_now()
    return SubStepProgress(
        status=SubStepStatus.COMPLETED,
        attempts=attempts,
        output=sample_output(name) if output is None else output,
        started_at=now,
        finished_at=now,
    )


def given_completed(repo: JobRepository, job: Job, name: str, attempts: int = 1) -> tuple[Job, str]:
    """`job` claimed by a new run that then completed phase 1's `name` after `attempts`."""
    _, arn = given_claimed(repo, job)
    repo.checkpoint_sub_step(job.job_id, arn, "phase1", name, _completed(name, attempts=attempts))
    return repo.get_job(job.job_id), arn


def test_a_new_job_over_the_item_limit_is_refused_before_anything_is_written(
    repo: JobRepository,
) -> None:
    # Given a batch whose second restaurant has a menu one byte too large for a new job
    batch_id = uuid.uuid4().hex
    fits = job_of_size(JOB_ITEM_LIMIT_BYTES, batch_id)
    too_large = job_of_size(JOB_ITEM_LIMIT_BYTES + 1, batch_id)
    batch = Batch(batch_id=batch_id, org_id=ORG, name="Big menus")

    # When the batch is created, then it is refused with a clear error
    with pytest.raises(ItemTooLargeError, match=f"at most {JOB_ITEM_LIMIT_BYTES}") as raised:
        repo.create_batch(batch, [make_job(batch_id=batch_id), too_large])
    assert too_large.job_id in str(raised.value)

    # And nothing of it was written
    with pytest.raises(NotFoundError):
        repo.get_batch(ORG, batch_id)
    assert repo.list_batches(ORG, limit=10).items == []

    # While a job exactly at the limit is accepted
    repo.create_batch(batch, [fits])
    assert repo.get_job(fits.job_id) == fits


def test_a_sub_step_output_over_its_limit_is_refused_before_it_is_written(
    repo: JobRepository, table: Table
) -> None:
    # Given a job held by run 1
    _, (job,) = given_batch(repo)
    _, arn = given_claimed(repo, job)
    overhead = value_size({"blob": ""})
    at_limit = {"blob": "x" * (MAX_OUTPUT_BYTES - overhead)}

    # When a sub-step's output is one byte over MAX_OUTPUT_BYTES, then nothing is written
    too_large = {"blob": "x" * (MAX_OUTPUT_BYTES - overhead + 1)}
    with (
        unchanged_job_item(table, job.job_id),
        pytest.raises(ItemTooLargeError, match=f"the limit is {MAX_OUTPUT_BYTES}"),
    ):
        repo.checkpoint_sub_step(
            job.job_id,
            arn,
            "phase1",
            "codeGeneration",
            _completed("codeGeneration", output=too_large),
        )

    # Then an output at the limit is written
    repo.checkpoint_sub_step(
        job.job_id, arn, "phase1", "codeGeneration", _completed("codeGeneration", output=at_limit)
    )
    assert (
        repo.get_job(job.job_id).step6_progress.sub_step("phase1", "codeGeneration").output
        == at_limit
    )


def test_errors_are_stored_truncated_whoever_writes_them(repo: JobRepository) -> None:
    # Given a job held by run 1
    _, (job,) = given_batch(repo)
    _, arn = given_claimed(repo, job)

    # When a sub-step fails with a very long error, another is left in progress, and the
    # execution is then cancelled with a very long reason (an operator's words are kept)
    now = utc_now()
    repo.checkpoint_sub_step(
        job.job_id,
        arn,
        "phase1",
        "cloudwaitressAccount",
        SubStepProgress(status=SubStepStatus.FAILED, attempts=1, error=LONG_ERROR, finished_at=now),
    )
    repo.checkpoint_sub_step(
        job.job_id,
        arn,
        "phase1",
        "codeGeneration",
        SubStepProgress(status=SubStepStatus.IN_PROGRESS, attempts=1, started_at=now),
    )
    settle_execution(repo, job.job_id, arn, ExecutionStatus.ABORTED, LONG_ERROR)

    # Then every stored error is at most MAX_ERROR_CHARS, marked as cut, and keeps its start
    settled = repo.get_job(job.job_id)
    errors = [
        settled.step6_progress.sub_step("phase1", "cloudwaitressAccount").error,
        settled.last_failure.error if settled.last_failure else None,
    ]
    for error in errors:
        assert error is not None
        assert len(error) == MAX_ERROR_CHARS
        assert error.endswith(TRUNCATION_MARK)
    assert errors[0] is not None and errors[0].startswith("PlatformError: 502")
    assert errors[1] is not None and errors[1].startswith("The run was cancelled: ")
    # and the sub-step the run left in progress says it was interrupted, in a short sentence
    stale = settled.step6_progress.sub_step("phase1", "codeGeneration")
    assert stale.error_code == ErrorCode.INTERRUPTED and len(stale.error or "") < 100


RESUMES = 50


def test_the_job_item_stays_under_100_kb_after_50_failed_resumes(
    repo: JobRepository, table: Table, engine: Engine
) -> None:
    # Given a job whose first run completed codeGeneration, then failed in cloudwaitressAccount
    _, (job,) = given_batch(repo)
    job, arn = given_completed(repo, job, "codeGeneration")
    sizes: dict[int, int] = {}

    # When it is resumed and fails again in the same place, with a long error and a long cause
    for run in range(1, RESUMES + 1):
        if run > 1:
            arn = execution_arn(job, run)
            claim_new_run(repo, job, arn)
        failed = SubStepProgress(
            status=SubStepStatus.FAILED,
            attempts=run,
            error=f"run {run}: {LONG_ERROR}",
            started_at=utc_now(),
            finished_at=utc_now(),
        )
        repo.checkpoint_sub_step(job.job_id, arn, "phase1", "cloudwaitressAccount", failed)
        job = settle_execution(
            repo, job.job_id, arn, ExecutionStatus.FAILED, f"run {run}: {LONG_ERROR}"
        )
        if run == 1 or run % 10 == 0:
            sizes[run] = stored_job_size(table, job.job_id)  # the item as the engine stores it

    # Then the stored job item stays far under 100 KB, and stops growing after the first run
    assert job.run_number == RESUMES
    assert job.step6_progress.sub_step("phase1", "cloudwaitressAccount").attempts == RESUMES
    # the history lives in separate items, the newest EVENTS_KEPT failures of the job
    assert len(repo.list_events(job.job_id)) == EVENTS_KEPT
    assert max(sizes.values()) < ISSUE_BUDGET_BYTES, sizes
    assert max(sizes.values()) - sizes[1] <= 16, sizes  # counters and run numbers gain digits
    if engine.name == "dynamodb_local":
        # The engine's own measure agrees (write units: ceil(size / 1 KB))
        stored = stored_job_item(table, job.job_id)
        assert write_units(table, stored) == math.ceil(sizes[RESUMES] / 1024)
    print(f"\n{engine.name}: stored job item after failed runs (bytes): {sizes}")


def test_a_job_at_its_limit_with_every_sub_step_at_its_limits_fits_in_dynamodb(
    repo: JobRepository, table: Table, engine: Engine
) -> None:
    # Given a new job whose restaurant is exactly at JOB_ITEM_LIMIT_BYTES, held by run 1
    batch_id = uuid.uuid4().hex
    big = job_of_size(JOB_ITEM_LIMIT_BYTES, batch_id)
    repo.create_batch(Batch(batch_id=batch_id, org_id=ORG, name="Worst case"), [big])
    _, arn = given_claimed(repo, big)

    # When every sub-step of the catalogue stores an output at its limit and a longest error
    overhead = value_size({"blob": ""})
    for spec in CATALOGUE:
        worst = SubStepProgress(
            status=SubStepStatus.IN_PROGRESS,
            attempts=99_999,
            output={"blob": "x" * (MAX_OUTPUT_BYTES - overhead)},
            error="😀" * MAX_ERROR_CHARS,
            started_at=utc_now(),
            finished_at=utc_now(),
        )
        repo.checkpoint_sub_step(big.job_id, arn, spec.phase, spec.name, worst)
    # and the execution fails with a longest cause (every sub-step becomes failed, last_failure)
    cause = "😀" * 100_000
    settle_execution(repo, big.job_id, arn, ExecutionStatus.FAILED, cause)

    # Then every write fitted: the job item (its restaurant is an item of its own, at most
    # JOB_ITEM_LIMIT_BYTES) holds what Step 6 added within its reserve, far under the limit
    size = stored_job_size(table, big.job_id)
    growth = size
    assert repo.get_job(big.job_id).last_failure is not None
    assert size <= STEP6_RESERVE_BYTES
    assert size <= DYNAMODB_ITEM_LIMIT_BYTES
    print(f"\n{engine.name}: worst case {size} bytes, Step 6 added {growth}")
