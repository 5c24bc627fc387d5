"""An item whose task and failure record both failed is still counted: the operation's Finish
records it as rejected (start_failed), so an ended operation never shows a job pending."""

from __future__ import annotations

from typing import Any

from tests.operations.conftest import Api, wait_operation


def test_an_item_that_never_ran_is_recorded_rejected_when_the_map_ends(api: Api) -> None:
    # given three jobs, and an item function that fails every call for the second one (its
    # run, its retries, and the failure record the map's Catch asks for)
    created = api.client.create_batch(["Cafe Aroha", "Kai Corner", "Lotus Bowl"])
    broken = created["jobs"][1]["job_id"]
    undo = api.runtime.lambdas.override(
        "OperationItemFunction",
        "tests.operations.doubles.item_function_down_for_one_job",
        env={"FAILING_JOB_ID": broken},
    )
    try:
        # when an operation submits Step 5 for the batch
        reply = api.client.post(
            "/operations",
            {
                "action": "submit_step5",
                "selector": {"batch_id": created["batch_id"]},
                "execution_config": {},
                "generate_passwords": True,
            },
        )
        assert reply.status == 202, reply
        done = wait_operation(api, reply.body["operation_id"], timeout_s=240)
    finally:
        undo()
    # then it ends with exact counts: the two others succeeded, the broken one is rejected
    assert done["status"] == "completed", done
    assert done["counts"] == {
        "matched": 3,
        "pending": 0,
        "running": 0,
        "succeeded": 2,
        "failed": 0,
        "rejected": 1,
        "cancelled": 0,
    }, done["counts"]
    jobs: list[dict[str, Any]] = api.client.get(
        f"/operations/{reply.body['operation_id']}/jobs?outcome=rejected"
    ).body["jobs"]
    assert [(j["job_id"], j["code"]) for j in jobs] == [(broken, "start_failed")], jobs
    # and the broken job was never started: it still waits at Step 5, with no run
    runs = api.client.get(f"/registration-batches/jobs/{broken}/runs").body["runs"]
    assert runs == []
