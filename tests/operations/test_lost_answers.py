"""A lost answer delays a job, never strands it: an item with no answer within its
answer_timeout_s (20 s locally) is invoked again, and that invocation answers at once from the
outcome settlement recorded."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.operations.conftest import Api, wait_operation


@pytest.fixture
def answers_lost(api: Api) -> Iterator[None]:
    lambdas = api.runtime.lambdas
    undo = [
        lambdas.override(
            "CompleteRunFunction", "tests.operations.doubles.complete_run_losing_answers"
        ),
        lambdas.override("ReconcileFunction", "tests.operations.doubles.reconcile_losing_answers"),
    ]
    yield
    for step in undo:
        step()


@pytest.mark.usefixtures("answers_lost")
def test_an_item_whose_answer_was_lost_asks_again_and_completes(api: Api) -> None:
    # given three jobs, and settling functions whose answers never reach Step Functions
    created = api.client.create_batch(["Cafe Aroha", "Kai Corner", "Lotus Bowl"])
    # when one operation submits Step 5 for all of them
    reply = api.client.post(
        "/operations",
        {
            "action": "submit_step5",
            "selector": {"batch_id": created["batch_id"]},
            "execution_config": {},
            "generate_passwords": True,
            "max_concurrency": 3,
        },
    )
    assert reply.status == 202, reply
    # then each item, unanswered, times out, is invoked again and answers from the recorded
    # outcome: the operation completes with every job succeeded
    done = wait_operation(api, reply.body["operation_id"], timeout_s=240)
    assert done["status"] == "completed", done
    assert done["counts"]["succeeded"] == 3, done["counts"]
    # and no job ran twice: one run each, one platform effect per sub-step
    for job in created["jobs"]:
        runs = api.client.get(f"/registration-batches/jobs/{job['job_id']}/runs").body["runs"]
        assert len(runs) == 1, runs
    assert all(e.count == 1 for e in api.simulator.ledger())
