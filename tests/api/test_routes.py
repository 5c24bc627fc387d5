"""Every route of the HTTP API (README, "The HTTP API") through the deployed entry point."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from domain import batch_actions, search
from local.samples import config_data, restaurant_data
from tests.api.conftest import ORG, OTHER_ORG, Api, job_password_refs

pytestmark = pytest.mark.integration


def test_create_batch_records_steps_1_to_4_as_provided_and_waits_at_step_5(api: Api) -> None:
    # when a batch of two restaurants is created
    created = api.client.create_batch(["Cafe Aroha", "Kai Kitchen"])
    # then each restaurant has a job waiting at Step 5
    assert created["status"] == "action_required"
    assert [j["restaurant_name"] for j in created["jobs"]] == ["Cafe Aroha", "Kai Kitchen"]
    job = api.client.job(created["jobs"][0]["job_id"])
    assert job["status"] == "action_required" and job["current_step"] == 5
    assert [(s["step"], s["status"], s["source"]) for s in job["steps"]] == [
        (1, "completed", "provided"),
        (2, "completed", "provided"),
        (3, "completed", "provided"),
        (4, "completed", "provided"),
        (5, "action_required", None),
        (6, "pending", None),
    ]
    assert job["execution_config"] is None
    assert job["resumable"] is False and job["resume_from"] is None
    assert job["restaurant"]["menu"]["categories"][0]["items"][0]["name"] == "Flat white"
    # and the batch lists them, with its counts
    batch = api.client.get(f"/registration-batches/{created['batch_id']}").body
    assert batch["job_counts"]["action_required"] == 2 and batch["job_total"] == 2
    assert [j["job_id"] for j in batch["jobs"]] == [j["job_id"] for j in created["jobs"]]
    listed = api.client.get("/registration-batches").body["batches"]
    assert [b["batch_id"] for b in listed] == [created["batch_id"]]


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"email": "not-an-email"}, "restaurants.0.email"),
        ({"branding": {"primary_color": "blue"}}, "restaurants.0.branding.primary_color"),
        ({"menu": {"menu_id": ""}}, "restaurants.0.menu.menu_id"),
        ({"company": {}}, "restaurants.0.company.name"),
        ({"surprise": 1}, "restaurants.0.surprise"),
    ],
)
def test_create_batch_rejects_a_bad_field_naming_it_and_creates_nothing(
    api: Api, override: dict[str, Any], field: str
) -> None:
    body = {"name": "Bad", "restaurants": [restaurant_data("Cafe Aroha", **override)]}
    reply = api.client.post("/registration-batches", body)
    assert reply.status == 422, reply
    assert reply.body["error"] == "validation_error"
    assert field in [f["field"] for f in reply.body["fields"]]
    assert field in reply.body["message"]
    assert api.client.get("/registration-batches").body["batches"] == []


def test_create_batch_rejects_prices_the_table_cannot_store(api: Api) -> None:
    data = restaurant_data("Cafe Aroha")
    data["menu"]["categories"][0]["items"][0]["price"] = 1e-200
    reply = api.client.post("/registration-batches", {"name": "B", "restaurants": [data]})
    assert reply.status == 422, reply
    assert "restaurants.0.menu.categories.0.items.0.price" in reply.body["message"]


def test_create_batch_refuses_a_restaurant_over_the_job_size_limit(api: Api) -> None:
    # given a menu whose descriptions alone exceed the documented job item limit
    data = restaurant_data("Cafe Aroha")
    items = [{"name": f"Dish {i}", "price": 10, "description": "x" * 2_000} for i in range(200)]
    data["menu"]["categories"] = [{"name": "Everything", "items": items}]
    reply = api.client.post("/registration-batches", {"name": "Huge", "restaurants": [data]})
    # then it is refused, naming the restaurant, and nothing is created (the repository's
    # ItemTooLargeError → 413 stays behind this check as a backstop)
    assert reply.status == 422, reply
    assert "restaurants.0 is larger than" in reply.body["message"]
    assert api.client.get("/registration-batches").body["batches"] == []


def test_a_failed_job_shows_its_progress_and_resumes_from_the_failed_phase(api: Api) -> None:
    # given a job whose first run failed at restaurantRegistration (phase 2, blocking)
    job = api.failed_job("restaurantRegistration")
    # then Step 5 stays completed and the job waits at Step 6 with its partial progress
    assert job["status"] == "action_required" and job["current_step"] == 6
    assert job["steps"][4]["status"] == "completed" and job["steps"][5]["status"] == "failed"
    progress = job["step6"]["sub_step_progress"]
    assert progress["phases"]["phase1"]["status"] == "completed"
    assert progress["phases"]["phase2"]["status"] == "failed"
    failed = progress["phases"]["phase2"]["sub_steps"]["restaurantRegistration"]
    assert failed["status"] == "failed" and failed["attempts"] == 1 and failed["error"]
    assert job["last_failure"]["phase"] == "phase2"
    assert job["last_failure"]["sub_step"] == "restaurantRegistration"
    assert job["resumable"] is True and job["resume_from"] == "phase2"
    assert job["active_execution"] is None
    assert job["execution_config"]["account"] == {
        "registerNewUser": True,
        "email": "owner@cafe-aroha.example",
        "password_set": True,
    }
    batch = api.client.get(f"/registration-batches/{job['batch_id']}").body
    assert batch["status"] == "action_required"
    (summary,) = batch["jobs"]
    assert summary["resumable"] is True and summary["resume_from"] == "phase2"
    assert summary["step6"]["phases"] == {
        "phase1": "completed",
        "phase2": "failed",
        "phase3": "pending",
        "phase4": "pending",
    }
    # when it is resumed
    reply = api.client.post(f"/registration-batches/jobs/{job['job_id']}/resume-step-6")
    assert reply.status == 202, reply
    assert reply.body["resume_from"] == "phase2"
    assert reply.body["execution_arn"].endswith(f"{job['job_id']}-run-2")
    api.runtime.wait_for(reply.body["execution_arn"])
    # then it finishes, phase 1 untouched, and the audit trail tells the story oldest first
    done = api.client.job(job["job_id"])
    assert done["status"] == "completed" and done["resumable"] is False
    assert done["last_failure"] is None
    assert api.runtime.entered_states(reply.body["execution_arn"])[2] == "Phase2"
    events = api.client.get(f"/registration-batches/jobs/{job['job_id']}/events").body["events"]
    types = [e["type"] for e in events]
    assert types[0] == "job_created" and types[-1] == "run_succeeded"
    assert types.index("run_failed") < types.index("resume_requested")
    assert [e["at"] for e in events] == sorted(e["at"] for e in events)
    assert api.client.get(f"/registration-batches/{job['batch_id']}").body["status"] == "completed"


# ---------------------------------------------------------------------- tenancy and auth


def _routes(batch_id: str, job_id: str) -> list[tuple[str, str, Any]]:
    return [
        ("GET", f"/registration-batches/{batch_id}", None),
        ("GET", f"/registration-batches/jobs/{job_id}", None),
        ("GET", f"/registration-batches/jobs/{job_id}/events", None),
        (
            "POST",
            f"/registration-batches/{batch_id}/step-5",
            {"jobs": [{"job_id": job_id, "execution_config": config_data("Cafe Aroha")}]},
        ),
        ("POST", f"/registration-batches/jobs/{job_id}/resume-step-6", None),
        ("POST", f"/registration-batches/{batch_id}/resume-step-6", {"job_ids": [job_id]}),
    ]


def test_every_route_answers_404_for_another_orgs_batch_or_job(api: Api) -> None:
    # given org A's failed (resumable) job, and a job of org A still at Step 5
    failed = api.failed_job()
    waiting = api.client.create_batch(["Kai Kitchen"])
    targets = [
        (failed["batch_id"], failed["job_id"]),
        (waiting["batch_id"], waiting["jobs"][0]["job_id"]),
    ]
    before = {job_id: api.job_item(job_id) for _, job_id in targets}
    runs = len(api.executions())
    # then org B gets 404 on every route that names them, exactly as for a missing id
    for batch_id, job_id in targets:
        for method, path, body in _routes(batch_id, job_id):
            reply = api.client.call(method, path, body, org=OTHER_ORG)
            assert reply.status == 404, (method, path, reply)
            assert reply.body["error"] == "not_found"
            missing = path.replace(job_id, "0" * 32).replace(batch_id, "f" * 32)
            assert api.client.call(method, missing, body, org=ORG).status == 404
    # the collection routes show org B only its own batches
    assert api.client.get("/registration-batches", org=OTHER_ORG).body == {
        "batches": [],
        "next_cursor": None,
    }
    mine = api.client.create_batch(["Moana Pies"], org=OTHER_ORG)
    listed = api.client.get("/registration-batches", org=OTHER_ORG).body["batches"]
    assert [b["batch_id"] for b in listed] == [mine["batch_id"]]
    # and nothing of org A changed
    assert {job_id: api.job_item(job_id) for _, job_id in targets} == before
    assert len(api.executions()) == runs


def test_a_request_without_the_org_claim_answers_401(api: Api) -> None:
    created = api.client.create_batch(["Cafe Aroha"])
    batch_id, job_id = created["batch_id"], created["jobs"][0]["job_id"]
    routes = [
        *_routes(batch_id, job_id),
        ("GET", "/registration-batches", None),
        ("POST", "/registration-batches", {"name": "x", "restaurants": []}),
    ]
    for method, path, body in routes:
        reply = api.client.call(method, path, body, org=None)
        assert reply.status == 401, (method, path, reply)
        assert reply.body["error"] == "unauthorized" and "custom:org_id" in reply.body["message"]


# ---------------------------------------------------------------------- Step 5


BAD_CONFIGS = [
    ({"email": "owner-at-example"}, "jobs.0.execution_config.account.email"),
    ({"password": "short-1"}, "jobs.0.execution_config.account.password"),
    ({"password": "no-digits-in-this-one"}, "jobs.0.execution_config.account.password"),
    ({"password": " 123456789abc "}, "jobs.0.execution_config.account.password"),
    ({"password": None}, "jobs.0"),
]


@pytest.mark.parametrize(("account", "field"), BAD_CONFIGS)
def test_step5_rejects_a_bad_account_naming_the_field_and_changes_nothing(
    api: Api, account: dict[str, Any], field: str
) -> None:
    job = api.waiting_job()
    job.config["account"].update(account)
    reply = api.client.submit_config(job.batch_id, job.job_id, job.config)
    _assert_unchanged_422(api, reply, field, job.job_id, job.item)
    if account.get("password"):
        # the rejected password is never echoed back
        assert account["password"].strip() not in str(reply.body)


def test_step5_rejects_an_unknown_sub_step_switch(api: Api) -> None:
    created = api.client.create_batch(["Cafe Aroha"])
    job_id = created["jobs"][0]["job_id"]
    before = api.job_item(job_id)
    reply = api.client.submit(
        created["batch_id"], created["jobs"], steps_enabled={"teleportRestaurant": False}
    )
    _assert_unchanged_422(api, reply, "jobs.0.execution_config.steps_enabled", job_id, before)
    assert "teleportRestaurant" in reply.body["message"]


def test_step5_rejects_a_job_named_twice_and_an_empty_list(api: Api) -> None:
    created = api.client.create_batch(["Cafe Aroha"])
    job_id = created["jobs"][0]["job_id"]
    before = api.job_item(job_id)
    path = f"/registration-batches/{created['batch_id']}/step-5"
    entry = {"job_id": job_id, "execution_config": config_data("Cafe Aroha")}
    _assert_unchanged_422(api, api.client.post(path, {"jobs": [entry, entry]}), "", job_id, before)
    _assert_unchanged_422(api, api.client.post(path, {"jobs": []}), "jobs", job_id, before)


def _assert_unchanged_422(
    api: Api, reply: Any, field: str, job_id: str, before: dict[str, Any]
) -> None:
    assert reply.status == 422, reply
    assert reply.body["error"] == "validation_error"
    assert any(f["field"].startswith(field) for f in reply.body["fields"]), reply
    assert api.job_item(job_id) == before
    assert api.executions(job_id) == []
    assert job_password_refs() == {}


def test_resubmitting_a_completed_step5_is_rejected_and_changes_nothing(api: Api) -> None:
    # given a job whose Step 5 was submitted (its run failed, so it is waiting at Step 6)
    job = api.failed_job()
    before = api.job_item(job["job_id"])
    # when Step 5 is submitted again with another config
    reply = api.client.submit(
        job["batch_id"],
        [{"job_id": job["job_id"], "restaurant_name": "Cafe Aroha"}],
        account={
            "registerNewUser": True,
            "email": "new@owner.example",
            "password": "An0ther-pass-99",
        },
    )
    # then the job is rejected with its reason, no run starts and the config stays
    assert reply.status == 202, reply
    assert reply.body["accepted"] == []
    (rejected,) = reply.body["rejected"]
    assert rejected["job_id"] == job["job_id"] and rejected["code"] == "step5_completed"
    assert "already completed" in rejected["reason"]
    assert api.job_item(job["job_id"]) == before
    assert len(api.executions(job["job_id"])) == 1


def test_step5_is_all_settled_across_the_selected_jobs(api: Api) -> None:
    created = api.client.create_batch(["Cafe Aroha", "Kai Kitchen"])
    first, second = created["jobs"]
    api.client.submit(created["batch_id"], [first])  # first's Step 5 is now completed
    reply = api.client.submit(
        created["batch_id"],
        [first, second, {"job_id": "0" * 32, "restaurant_name": "Ghost Cafe"}],
    )
    assert reply.status == 202, reply
    assert [a["job_id"] for a in reply.body["accepted"]] == [second["job_id"]]
    assert [(r["job_id"], r["code"]) for r in reply.body["rejected"]] == [
        (first["job_id"], "step5_completed"),
        ("0" * 32, "not_found"),
    ]
    api.runtime.wait_all()


# ---------------------------------------------------------------------- resume one job


def test_resume_job_answers_409_while_a_run_is_active(api: Api) -> None:
    created, arn = api.running_job()
    reply = api.client.post(
        f"/registration-batches/jobs/{created['jobs'][0]['job_id']}/resume-step-6"
    )
    assert reply.status == 409, reply
    assert reply.body["error"] == "already_running" and reply.body["active_execution"] == arn
    api.runtime.wait_for(arn)


def test_resume_job_answers_409_when_there_is_nothing_to_resume(api: Api) -> None:
    # a job still at Step 5 has nothing to resume
    created = api.client.create_batch(["Cafe Aroha"])
    job_id = created["jobs"][0]["job_id"]
    reply = api.client.post(f"/registration-batches/jobs/{job_id}/resume-step-6")
    assert reply.status == 409 and reply.body["error"] == "not_resumable", reply
    # nor does a completed one
    arn = api.client.submit(created["batch_id"], created["jobs"]).body["accepted"][0][
        "execution_arn"
    ]
    api.runtime.wait_for(arn)
    reply = api.client.post(f"/registration-batches/jobs/{job_id}/resume-step-6")
    assert reply.status == 409 and reply.body["error"] == "not_resumable", reply
    assert len(api.executions(job_id)) == 1


def test_resume_job_answers_404_and_422_for_unknown_and_malformed_ids(api: Api) -> None:
    reply = api.client.post(f"/registration-batches/jobs/{'0' * 32}/resume-step-6")
    assert reply.status == 404 and reply.body["error"] == "not_found", reply
    reply = api.client.post("/registration-batches/jobs/bad$id/resume-step-6")
    assert reply.status == 422 and reply.body["fields"][0]["field"] == "path.jobId", reply


# ---------------------------------------------------------------------- resume a batch


def test_resume_batch_is_all_settled_and_collapses_duplicates(api: Api) -> None:
    # given a batch with one failed job and one still at Step 5
    api.fault("restaurantRegistration", "fail", restaurant="Cafe Aroha")
    created = api.client.create_batch(["Cafe Aroha", "Kai Kitchen"])
    failed, waiting = created["jobs"]
    arn = api.client.submit(created["batch_id"], [failed]).body["accepted"][0]["execution_arn"]
    api.runtime.wait_for(arn)
    # when both, a duplicate and an unknown id are resumed together
    ids = [failed["job_id"], waiting["job_id"], failed["job_id"], "0" * 32]
    reply = api.client.post(
        f"/registration-batches/{created['batch_id']}/resume-step-6", {"job_ids": ids}
    )
    # then the failed job starts once and each other job has its own reason
    assert reply.status == 202, reply
    (accepted,) = reply.body["accepted"]
    assert accepted["job_id"] == failed["job_id"] and accepted["resume_from"] == "phase2"
    assert [(r["job_id"], r["code"]) for r in reply.body["rejected"]] == [
        (waiting["job_id"], "not_resumable"),
        ("0" * 32, "not_found"),
    ]
    assert "Step 5" in reply.body["rejected"][0]["reason"]
    api.runtime.wait_for(accepted["execution_arn"])
    assert api.client.job(failed["job_id"])["status"] == "completed"
    assert len(api.executions(failed["job_id"])) == 2
    # and the batch status is recalculated as its jobs settle
    assert api.client.get(f"/registration-batches/{created['batch_id']}").body["job_counts"] == {
        "pending": 0,
        "in_progress": 0,
        "action_required": 1,
        "completed": 1,
        "completed_with_errors": 0,
        "failed": 0,
    }


@pytest.mark.parametrize(
    "job_ids", [[], [f"job-{i}" for i in range(batch_actions.MAX_JOBS_PER_REQUEST + 1)]]
)
def test_resume_batch_answers_422_for_no_ids_or_too_many(api: Api, job_ids: list[str]) -> None:
    created = api.client.create_batch(["Cafe Aroha"])
    reply = api.client.post(
        f"/registration-batches/{created['batch_id']}/resume-step-6", {"job_ids": job_ids}
    )
    assert reply.status == 422, reply
    assert reply.body["fields"][0]["field"] == "job_ids"


def test_resume_batch_answers_404_for_an_unknown_batch(api: Api) -> None:
    reply = api.client.post(f"/registration-batches/{'f' * 32}/resume-step-6", {"job_ids": ["x"]})
    assert reply.status == 404 and reply.body["error"] == "not_found", reply


def test_resume_batch_rejects_a_running_job_with_its_execution(api: Api) -> None:
    created, arn = api.running_job()
    reply = api.client.post(
        f"/registration-batches/{created['batch_id']}/resume-step-6",
        {"job_ids": [created["jobs"][0]["job_id"]]},
    )
    assert reply.status == 202 and reply.body["accepted"] == [], reply
    (rejected,) = reply.body["rejected"]
    assert rejected["code"] == "already_running" and rejected["active_execution"] == arn
    api.runtime.wait_for(arn)


# ---------------------------------------------------------------------- reads reconcile


@pytest.mark.parametrize("api", [{"deliver_events": False}], indirect=True)
def test_reading_a_job_settles_a_run_whose_event_was_lost(api: Api) -> None:
    # given a run that failed while its status-change event never arrived
    api.fault("restaurantRegistration", "fail")
    created = api.client.create_batch(["Cafe Aroha"])
    job_id = created["jobs"][0]["job_id"]
    arn = api.client.submit(created["batch_id"], created["jobs"]).body["accepted"][0][
        "execution_arn"
    ]
    api.runtime.wait_for(arn)
    assert api.job_item(job_id)["active_execution"] == arn
    # when the job is read, then it is settled and resumable
    job = api.client.job(job_id)
    assert job["active_execution"] is None and job["status"] == "action_required"
    assert job["resumable"] is True and job["last_failure"]["sub_step"] == "restaurantRegistration"
    counts = api.client.get(f"/registration-batches/{created['batch_id']}").body["job_counts"]
    assert counts["action_required"] == 1 and counts["in_progress"] == 0


@pytest.mark.parametrize("api", [{"deliver_events": False}], indirect=True)
def test_reading_a_batch_settles_its_stale_runs(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search, "RECONCILE_STALE_AFTER", timedelta(0))
    created = api.client.create_batch(["Cafe Aroha", "Kai Kitchen"])
    reply = api.client.submit(created["batch_id"], created["jobs"])
    for accepted in reply.body["accepted"]:
        api.runtime.wait_for(accepted["execution_arn"])
    batch = api.client.get(f"/registration-batches/{created['batch_id']}").body
    assert batch["status"] == "completed", batch
    assert [j["status"] for j in batch["jobs"]] == ["completed", "completed"]
    assert batch["job_counts"]["completed"] == 2
