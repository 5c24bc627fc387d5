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


def test_a_replayed_item_never_starts_its_job_twice(api: Api) -> None:
    from local import request_calls
    from local.template import function_arn

    # given an operation whose jobs have run, each once
    created = api.client.create_batch(["Cafe Aroha", "Kai Corner"])
    reply = api.client.post(
        "/operations",
        {
            "action": "submit_step5",
            "selector": {"batch_id": created["batch_id"]},
            "execution_config": {},
            "generate_passwords": True,
        },
    )
    op = reply.body["operation_id"]
    assert wait_operation(api, op)["counts"]["succeeded"] == 2
    effects_before = {(e.idempotency_key, e.count) for e in api.simulator.ledger()}
    # when the item task runs again for each job (a redrive of the map, a retried invoke),
    # with a new task token
    # (the token as the map would hand it out: answering it is authorised on the bulk machine)
    request_calls.TASK_TOKEN_OWNERS["a-token-nobody-waits-on"] = api.runtime.bulk_operation_arn
    for job in created["jobs"]:
        result, error = api.runtime.lambdas.invoke(
            function_arn("OperationItemFunction", api.runtime.region),
            {
                "action": "run",
                "operation_id": op,
                "job_id": job["job_id"],
                "config": {},
                "task_token": "a-token-nobody-waits-on",
            },
        )
        # then it answers from the recorded outcome and starts nothing
        assert error is None, result
        assert result == {"outcome": "succeeded"}
        runs = api.client.get(f"/registration-batches/jobs/{job['job_id']}/runs").body["runs"]
        assert len(runs) == 1
    assert {(e.idempotency_key, e.count) for e in api.simulator.ledger()} == effects_before
    assert all(e.count == 1 for e in api.simulator.ledger())
    assert api.client.get(f"/operations/{op}").body["counts"]["succeeded"] == 2


def test_a_typed_password_and_a_cancel_operation(api: Api) -> None:
    # given two jobs started by an operation with one typed password, their runs slowed
    created = api.client.create_batch(["Cafe Aroha", "Kai Corner"])
    api.fault("cloudwaitressAccount", "latency", latency_ms=3000, times=20)
    started = api.client.post(
        "/operations",
        {
            "action": "submit_step5",
            "selector": {"batch_id": created["batch_id"]},
            "execution_config": {"account": {"password": "S3cure-pass-123"}},
        },
    )
    assert started.status == 202, started
    from tests.operations.conftest import poll

    poll(
        lambda: all(api.client.job(j["job_id"])["status"] == "in_progress" for j in created["jobs"])
    )
    # when a cancel operation selects the batch's running jobs
    cancel = api.client.post(
        "/operations",
        {
            "action": "cancel",
            "selector": {"batch_id": created["batch_id"], "status": "in_progress"},
        },
    )
    assert cancel.status == 202, cancel
    done = wait_operation(api, cancel.body["operation_id"])
    # then each run was stopped, and the first operation records both jobs as failed (aborted)
    assert done["counts"]["succeeded"] == 2, done
    first = wait_operation(api, started.body["operation_id"])
    assert first["counts"]["failed"] == 2, first
    jobs = _jobs(api, started.body["operation_id"])
    assert {j["code"] for j in jobs} == {"aborted"}
