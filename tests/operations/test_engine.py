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


def test_resume_of_the_jobs_that_failed_at_a_sub_step_runs_only_those(api: Api) -> None:
    # given a batch where two of three jobs failed at restaurantRegistration
    created = api.client.create_batch(["Cafe Aroha", "Kai Corner", "Lotus Bowl"])
    for name in ("Kai Corner", "Lotus Bowl"):
        api.fault("restaurantRegistration", "fail", restaurant=name)
    submitted = api.client.submit(created["batch_id"], created["jobs"])
    assert submitted.status == 202, submitted
    for job in created["jobs"]:
        api.client.wait_settled(job["job_id"])
    # when one operation resumes the jobs that failed there
    reply = api.client.post(
        "/operations",
        {
            "action": "resume_step6",
            "selector": {
                "batch_id": created["batch_id"],
                "failed_sub_step": "restaurantRegistration",
            },
            "max_concurrency": 1,
        },
    )
    # then exactly those two run again, and finish
    assert reply.status == 202, reply
    assert reply.body["counts"]["matched"] == 2
    done = wait_operation(api, reply.body["operation_id"])
    assert done["status"] == "completed"
    assert done["counts"]["succeeded"] == 2, done
    for job in created["jobs"]:
        assert api.client.job(job["job_id"])["status"] == "completed"
    # and no platform side effect happened twice
    assert all(entry.count == 1 for entry in api.simulator.ledger())


def test_a_rejected_job_is_a_result_and_the_others_run(api: Api) -> None:
    created = api.client.create_batch(["Cafe Aroha", "Kai Corner"])
    ids = [j["job_id"] for j in created["jobs"]]
    reply = api.client.post(
        "/operations",
        {
            "action": "submit_step5",
            "selector": {"job_ids": [*ids, "no-such-job"]},
            "execution_config": {"menu": {"selectedMenuId": "not-this-menu"}},
            "per_job": {ids[0]: {"menu": {"selectedMenuId": None}}},
            "generate_passwords": True,
        },
    )
    assert reply.status == 202, reply
    done = wait_operation(api, reply.body["operation_id"])
    assert done["status"] == "completed"
    assert done["counts"]["succeeded"] == 1 and done["counts"]["rejected"] == 2, done
    rejected = _jobs(api, reply.body["operation_id"], "rejected")
    assert {j["job_id"]: j["code"] for j in rejected} == {
        ids[1]: "invalid_config",
        "no-such-job": "not_found",
    }


def test_cancel_mid_way_starts_no_further_job(api: Api) -> None:
    # given an operation over six jobs, one at a time, each run slowed down
    names = [f"Slow {n}" for n in range(6)]
    created = api.client.create_batch(names)
    api.fault("cloudwaitressAccount", "latency", latency_ms=1500, times=10)
    reply = api.client.post(
        "/operations",
        {
            "action": "submit_step5",
            "selector": {"batch_id": created["batch_id"]},
            "execution_config": {},
            "generate_passwords": True,
            "max_concurrency": 1,
        },
    )
    op = reply.body["operation_id"]
    # when it is cancelled while its first job runs
    from tests.operations.conftest import poll

    poll(lambda: api.client.get(f"/operations/{op}").body["counts"]["running"] >= 1)
    cancelled = api.client.post(f"/operations/{op}/cancel")
    assert cancelled.status == 202, cancelled
    # then the running job finishes, and no further job starts
    done = wait_operation(api, op)
    assert done["status"] == "cancelled", done
    assert done["counts"]["succeeded"] + done["counts"]["failed"] <= 2, done
    assert done["counts"]["cancelled"] >= 4, done
    started = [
        j for j in created["jobs"] if api.client.job(j["job_id"])["status"] != "action_required"
    ]
    assert len(started) == done["counts"]["succeeded"] + done["counts"]["failed"]
