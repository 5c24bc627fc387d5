"""Steps 1-4's writes on moto and DynamoDB Local: one JobPipeline execution holds a job at a
time, only it records a step, and a step that finds part of the restaurant writes it with the
job in one transaction (docs/architecture.md §14)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import pytest

from domain.pipeline import new_prospect_job, with_step
from domain.summary import summarize
from state.errors import ConflictError, ItemTooLargeError, SupersededExecutionError
from state.models import (
    Batch,
    Branding,
    Job,
    Menu,
    MenuCategory,
    MenuItem,
    Prospect,
    StepSource,
    StepStatus,
)
from state.repository import JobRepository
from tests.repository.support import Engine, other_handles

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

ORG = "org-a"
THREADS = 8


MACHINE = "arn:aws:states:us-east-1:123456789012:execution:JobPipelineStateMachine"


def _arn(job: Job, run: int) -> str:
    return f"{MACHINE}:{job.job_id}-steps-{run}"


def given_website_job(repo: JobRepository, *, held_by: int | None = 1) -> Job:
    """A job created from a website, stored held by its first execution (as the API does)."""
    prospect = Prospect(name="Luigi's Trattoria", website_url="http://127.0.0.1:9/luigis/")
    job = new_prospect_job("b-pipeline", ORG, prospect)
    if held_by is not None:
        assert job.pipeline is not None
        job = job.model_copy(
            update={
                "pipeline": job.pipeline.model_copy(
                    update={"runs": held_by, "execution": _arn(job, held_by)}
                ),
                "steps": with_step(job.steps, 1, StepStatus.IN_PROGRESS),
                "status": StepStatus.IN_PROGRESS,
            }
        )
    repo.create_batch(Batch(batch_id=job.batch_id + job.job_id[:6], org_id=ORG, name="B"), [job])
    return repo.get_job(job.job_id)


def _menu(job: Job, items: int = 3, description: str = "") -> Menu:
    return Menu(
        menu_id=f"menu-{job.job_id}",
        categories=[
            MenuCategory(
                name="Pasta",
                items=[
                    MenuItem(name=f"Dish {i}", price=10 + i, description=description)
                    for i in range(items)
                ],
            )
        ],
    )


def _step1_done(repo: JobRepository, job: Job, arn: str, **restaurant: Any) -> None:
    assert isinstance(job.restaurant, Prospect) and job.pipeline is not None
    steps = with_step(job.steps, 1, StepStatus.COMPLETED, StepSource.AUTOMATION)
    repo.advance_pipeline(
        job,
        arn,
        steps=with_step(steps, 2, StepStatus.IN_PROGRESS),
        status=StepStatus.IN_PROGRESS,
        current_step=2,
        pipeline=job.pipeline,
        restaurant=job.restaurant.model_copy(update=restaurant),
    )


def test_the_holding_execution_records_a_step_with_the_restaurant_it_found(
    repo: JobRepository,
) -> None:
    # given a website job held by its first execution
    job = given_website_job(repo)
    # when Step 1 records the menu and branding it read
    branding = Branding(primary_color="#b22222")
    _step1_done(repo, job, _arn(job, 1), menu=_menu(job), branding=branding)
    # then the job and its restaurant moved together
    stored = repo.get_job(job.job_id)
    assert stored.current_step == 2
    assert [s.status for s in stored.steps[:2]] == [StepStatus.COMPLETED, StepStatus.IN_PROGRESS]
    assert isinstance(stored.restaurant, Prospect)
    assert stored.restaurant.menu == _menu(job)
    assert stored.restaurant.branding == Branding(primary_color="#b22222")
    assert summarize(stored).restaurant_name == "Luigi's Trattoria"


def test_another_execution_records_nothing_and_nothing_changes(repo: JobRepository) -> None:
    job = given_website_job(repo)

    with pytest.raises(SupersededExecutionError):
        _step1_done(repo, job, _arn(job, 2), menu=_menu(job))

    stored = repo.get_job(job.job_id)
    assert stored.current_step == 1 and stored.step(1).status == StepStatus.IN_PROGRESS
    assert isinstance(stored.restaurant, Prospect) and stored.restaurant.menu is None


def test_a_restaurant_over_its_size_limit_is_refused_before_anything_is_written(
    repo: JobRepository,
) -> None:
    job = given_website_job(repo)
    huge = _menu(job, items=400, description="x" * 1_000)

    with pytest.raises(ItemTooLargeError):
        _step1_done(repo, job, _arn(job, 1), menu=huge)

    assert repo.get_job(job.job_id).step(1).status == StepStatus.IN_PROGRESS


def test_a_claim_needs_a_free_job_and_the_run_count_as_read(repo: JobRepository) -> None:
    # given a job whose execution handed it back (Step 2 waits for the operator)
    job = given_website_job(repo)
    assert job.pipeline is not None
    repo.advance_pipeline(
        job,
        _arn(job, 1),
        steps=with_step(job.steps, 1, StepStatus.FAILED),
        status=StepStatus.FAILED,
        current_step=1,
        pipeline=job.pipeline.model_copy(update={"execution": None}),
    )
    free = repo.get_job(job.job_id)
    assert free.pipeline is not None and free.pipeline.execution is None
    # when it is claimed for run 2, then claimed again from the same read
    retry = with_step(free.steps, 1, StepStatus.IN_PROGRESS)
    repo.claim_pipeline(
        free,
        _arn(job, 2),
        steps=retry,
        status=StepStatus.IN_PROGRESS,
        current_step=1,
        pipeline=free.pipeline.model_copy(update={"runs": 2}),
    )
    # then the second loses and learns nothing was changed by it
    with pytest.raises(ConflictError):
        repo.claim_pipeline(
            free,
            _arn(job, 2) + "-twin",
            steps=retry,
            status=StepStatus.IN_PROGRESS,
            current_step=1,
            pipeline=free.pipeline.model_copy(update={"runs": 2}),
        )
    held = repo.get_job(job.job_id)
    assert held.pipeline is not None and held.pipeline.execution == _arn(job, 2)
    assert held.pipeline.runs == 2


# DynamoDB Local only, as in test_claims.py: moto 5.2.5 does not make a conditional write atomic.
@pytest.mark.parametrize("engine", ["dynamodb_local"], indirect=True)
def test_concurrent_claims_of_a_free_job_exactly_one_wins(
    repo: JobRepository, table: Table, engine: Engine
) -> None:
    job = given_website_job(repo, held_by=None)
    assert job.pipeline is not None
    repos = [JobRepository(h, summarize=summarize) for h in other_handles(engine, table, THREADS)]
    start = threading.Barrier(THREADS)
    outcomes: dict[int, str] = {}

    def claim(i: int) -> None:
        start.wait()
        try:
            repos[i].claim_pipeline(
                job,
                _arn(job, 1) + f"-caller{i}",
                steps=with_step(job.steps, 1, StepStatus.IN_PROGRESS),
                status=StepStatus.IN_PROGRESS,
                current_step=1,
                pipeline=job.pipeline.model_copy(update={"runs": 1}),  # type: ignore[union-attr]
            )
            outcomes[i] = "won"
        except ConflictError:
            outcomes[i] = "lost"

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    winners = [i for i, outcome in outcomes.items() if outcome == "won"]
    assert len(outcomes) == THREADS and len(winners) == 1, outcomes
    stored = repo.get_job(job.job_id)
    assert stored.pipeline is not None
    assert stored.pipeline.execution == _arn(job, 1) + f"-caller{winners[0]}"
