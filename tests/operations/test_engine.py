"""The engine end to end: the BulkOperation Distributed Map runs each job's Step 6 run."""

from __future__ import annotations

from typing import Any

from tests.operations.conftest import Api, wait_operation


def _jobs(api: Api, operation_id: str, outcome: str | None = None) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = f"?outcome={outcome}" if outcome else "?"
        if cursor:
            query += f"&cursor={cursor}"
        reply = api.client.get(f"/operations/{operation_id}/jobs{query}")
        assert reply.status == 200, reply
        found += reply.body["jobs"]
        cursor = reply.body["next_cursor"]
        if not cursor:
            return found


def test_submit_step5_with_generated_passwords_runs_every_selected_job(api: Api) -> None:
    # given a batch of three jobs waiting at Step 5
    created = api.client.create_batch(["Cafe Aroha", "Kai Corner", "Lotus Bowl"])
    first = created["jobs"][0]["job_id"]
    # when one operation submits Step 5 for all of them, one email overridden
    reply = api.client.post(
        "/operations",
        {
            "action": "submit_step5",
            "selector": {"batch_id": created["batch_id"]},
            "execution_config": {"menu": {"uploadImages": True}},
            "generate_passwords": True,
            "per_job": {first: {"account": {"email": "someone@else.example"}}},
            "max_concurrency": 2,
        },
    )
    # then it answers at once, and every job runs Step 6 to the end
    assert reply.status == 202, reply
    assert reply.body["status"] == "queued"
    assert reply.body["counts"]["matched"] == 3
    done = wait_operation(api, reply.body["operation_id"])
    assert done["status"] == "completed", done
    assert done["counts"]["succeeded"] == 3, done
    jobs = _jobs(api, reply.body["operation_id"])
    assert {j["outcome"] for j in jobs} == {"succeeded"}
    job = api.client.job(first)
    assert job["status"] == "completed"
    assert job["execution_config"]["account"]["email"] == "someone@else.example"
    runs = api.client.get(f"/registration-batches/jobs/{first}/runs").body["runs"]
    assert runs[0]["trigger"] == "operation"
