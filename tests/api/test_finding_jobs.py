"""Finding the jobs: a batch's jobs filtered, searched, sorted and paged; failures grouped by
cause; the org's batches paged; the batch-wide calls' cap (docs/architecture.md §8)."""

from __future__ import annotations

import hashlib
from typing import Any

from domain import search
from domain.batch_actions import MAX_JOBS_PER_REQUEST
from tests.api.conftest import ORG, OTHER_ORG, Api

NAMES = ["Cafe Aroha", "Kai Kitchen", "Moana Pies", "Cafe Kowhai", "Tui Bakery"]


def _batch_with_two_failed(api: Api) -> tuple[str, dict[str, str]]:
    """A batch of five: Cafe Aroha and Kai Kitchen failed at restaurantRegistration (their
    Step 6 ran), the other three wait at Step 5. Returns the batch id and name -> job id."""
    api.fault("restaurantRegistration", "fail", times=2)
    created = api.client.create_batch(NAMES)
    reply = api.client.submit(created["batch_id"], created["jobs"][:2])
    assert reply.status == 202 and len(reply.body["accepted"]) == 2, reply
    for accepted in reply.body["accepted"]:
        api.runtime.wait_for(accepted["execution_arn"])
    return created["batch_id"], {j["restaurant_name"]: j["job_id"] for j in created["jobs"]}


def _jobs(api: Api, batch_id: str, query: str = "", org: str | None = None) -> Any:
    path = f"/registration-batches/{batch_id}/jobs{'?' + query if query else ''}"
    return api.client.get(path) if org is None else api.client.get(path, org=org)


def test_a_batchs_jobs_filter_search_sort_and_page(api: Api) -> None:
    # Given a batch of five, two of them failed at restaurantRegistration
    batch_id, ids = _batch_with_two_failed(api)

    # When its jobs are asked for by where they failed, then the two come, with their cause
    reply = _jobs(
        api, batch_id, "failed_sub_step=restaurantRegistration&error_code=platform_rejected"
    )
    assert reply.status == 200, reply
    assert reply.body["total"] == 2 and reply.body["next_cursor"] is None
    assert {j["job_id"] for j in reply.body["jobs"]} == {ids["Cafe Aroha"], ids["Kai Kitchen"]}
    for job in reply.body["jobs"]:
        assert job["failed_sub_step"] == "restaurantRegistration"
        assert job["error_code"] == "platform_rejected"
        assert job["short_error"] and len(job["short_error"]) <= 200
        assert job["resumable"] is True and job["resume_from"] == "phase2"
        assert job["step6"]["phases"]["phase1"] == "completed"
    # by status (repeated and comma-separated alike), by resumability
    assert _jobs(api, batch_id, "status=action_required").body["total"] == 5
    both = _jobs(api, batch_id, "status=in_progress&status=completed,action_required")
    assert both.body["total"] == 5
    assert _jobs(api, batch_id, "step6_status=pending").body["total"] == 3
    assert _jobs(api, batch_id, "resumable=true").body["total"] == 2
    assert _jobs(api, batch_id, "resumable=false&failed_phase=phase2").body["total"] == 0
    # by name, case-insensitively, anywhere in it
    found = _jobs(api, batch_id, "q=CAFE").body
    assert sorted(j["restaurant_name"] for j in found["jobs"]) == ["Cafe Aroha", "Cafe Kowhai"]
    assert _jobs(api, batch_id, "q=pie").body["total"] == 1

    # When all five are paged two at a time by name, last first
    names: list[str] = []
    cursor = None
    pages = 0
    while True:
        query = "sort=name&order=desc&limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = _jobs(api, batch_id, query).body
        assert page["total"] == 5
        names += [j["restaurant_name"] for j in page["jobs"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    # Then every job comes once, in order, over three pages
    assert names == sorted(NAMES, reverse=True) and pages == 3

    # And the batch read keeps its counts and gives its first page, with the /jobs cursor
    batch = api.client.get(f"/registration-batches/{batch_id}").body
    assert batch["job_total"] == 5 and batch["job_counts"]["action_required"] == 5
    assert len(batch["jobs"]) == 5 and batch["next_cursor"] is None
    assert batch["status"] == "action_required"


def test_bad_filters_answer_422_naming_the_parameter(api: Api) -> None:
    created = api.client.create_batch(["Cafe Aroha", "Kai Kitchen"])
    batch_id = created["batch_id"]
    other_query_cursor = _jobs(api, batch_id, "sort=name&limit=1").body["next_cursor"]
    assert other_query_cursor
    for query, field in [
        ("status=stuck", "status"),
        ("step6_status=completed,nope", "step6_status"),
        ("failed_sub_step=teleportRestaurant", "failed_sub_step"),
        ("error_code=gremlins", "error_code"),
        ("failed_phase=phase9", "failed_phase"),
        ("sort=size", "sort"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        (f"limit=1&cursor={other_query_cursor}", "cursor"),
        ("cursor=not-a-cursor", "cursor"),
    ]:
        reply = _jobs(api, batch_id, query)
        assert reply.status == 422, (query, reply)
        assert reply.body["error"] == "validation_error"
        assert field in {f["field"].split(".")[-1] for f in reply.body["fields"]}, (query, reply)


def test_another_orgs_batch_is_not_found_by_jobs_or_failures(api: Api) -> None:
    created = api.client.create_batch(["Cafe Aroha"])
    batch_id = created["batch_id"]
    assert _jobs(api, batch_id, org=OTHER_ORG).status == 404
    reply = api.client.get(f"/failures?batch_id={batch_id}", org=OTHER_ORG)
    assert reply.status == 404, reply
    assert api.client.get("/failures", org=OTHER_ORG).body == {"groups": []}
    assert _jobs(api, "no-such-batch").status == 404


def test_failures_are_grouped_by_cause_biggest_first(api: Api) -> None:
    # Given two failed at restaurantRegistration in one batch, and one at menuImport in another
    batch_id, ids = _batch_with_two_failed(api)
    api.fault("menuImport", "fail")  # the first batch's faults are used up
    other = api.client.create_batch(["Tui Bakery"])
    reply = api.client.submit(other["batch_id"], other["jobs"])
    api.runtime.wait_for(reply.body["accepted"][0]["execution_arn"])

    # When the failures of the first batch are asked for
    groups = api.client.get(f"/failures?batch_id={batch_id}").body["groups"]

    # Then the two jobs form one group, with their cause, a sample error and their ids
    (group,) = groups
    assert (group["phase"], group["sub_step"], group["error_code"]) == (
        "phase2",
        "restaurantRegistration",
        "platform_rejected",
    )
    assert group["count"] == 2 and group["resumable_count"] == 2
    assert sorted(group["job_ids"]) == sorted([ids["Cafe Aroha"], ids["Kai Kitchen"]])
    assert group["sample_error"]
    # and org-wide, both causes, the bigger group first
    everywhere = api.client.get("/failures").body["groups"]
    assert [(g["sub_step"], g["count"]) for g in everywhere] == [
        ("restaurantRegistration", 2),
        ("menuImport", 1),
    ]
    # and a job resumed (running, then completed) leaves its group
    resumed = api.client.post(f"/registration-batches/jobs/{ids['Cafe Aroha']}/resume-step-6")
    api.runtime.wait_for(resumed.body["execution_arn"])
    (group,) = api.client.get(f"/failures?batch_id={batch_id}").body["groups"]
    assert group["job_ids"] == [ids["Kai Kitchen"]]


def test_the_batch_list_pages(api: Api) -> None:
    made = [api.client.create_batch([f"Cafe {i}"])["batch_id"] for i in range(3)]
    first = api.client.get("/registration-batches?limit=2").body
    assert [b["batch_id"] for b in first["batches"]] == made[::-1][:2]
    assert first["batches"][0]["job_total"] == 1 and first["next_cursor"]
    second = api.client.get(f"/registration-batches?limit=2&cursor={first['next_cursor']}").body
    assert [b["batch_id"] for b in second["batches"]] == made[:1]
    assert api.client.get("/registration-batches?limit=101").status == 422
    assert api.client.get("/registration-batches?cursor=abc").status == 422


def test_batch_calls_over_the_cap_point_to_operations(api: Api) -> None:
    # Given a batch one job over the cap
    created = api.client.create_batch([f"Cafe {i}" for i in range(MAX_JOBS_PER_REQUEST + 1)])
    path = f"/registration-batches/{created['batch_id']}"

    # When all of it is resumed (no ids) or given Step 5, then 422 names POST /operations
    reply = api.client.post(f"{path}/resume-step-6", {})
    assert reply.status == 422 and "POST /operations" in reply.body["message"], reply
    reply = api.client.submit(created["batch_id"], created["jobs"])
    assert reply.status == 422 and "POST /operations" in reply.body["message"], reply
    assert reply.body["fields"][0]["field"] == "jobs"
    # and the batch read gives the first 100 jobs with the cursor for the rest
    batch = api.client.get(path).body
    assert len(batch["jobs"]) == 100 and batch["job_total"] == MAX_JOBS_PER_REQUEST + 1
    rest = _jobs(api, created["batch_id"], f"cursor={batch['next_cursor']}").body
    assert [j["job_id"] for j in batch["jobs"] + rest["jobs"]] == [
        j["job_id"] for j in created["jobs"]
    ]


def test_a_resume_without_ids_takes_the_whole_small_batch(api: Api) -> None:
    created = api.client.create_batch(["Cafe Aroha"])
    reply = api.client.post(f"/registration-batches/{created['batch_id']}/resume-step-6", {})
    assert reply.status == 202, reply
    (rejected,) = reply.body["rejected"]
    assert rejected["code"] == "not_resumable"


def test_a_forged_batch_list_cursor_is_a_422(api: Api) -> None:
    # given a cursor carrying the right fingerprint but a start key outside the org's batches
    api.client.create_batch(["Cafe Aroha"])
    fingerprint = hashlib.sha256(f"batches:{ORG}".encode()).hexdigest()[:16]
    forged = {"pk": "BATCH#x", "sk": "BATCH", "lpk": f"ORG#{OTHER_ORG}#BATCHES", "lsk": "z"}
    for start in (forged, forged | {"sk": ""}, {"pk": "BATCH#x"}):
        cursor = search._encode(start, fingerprint)
        # when the batch list is read from it
        reply = api.client.get(f"/registration-batches?cursor={cursor}")
        # then the answer is a 422 naming the cursor, never a 5xx
        assert reply.status == 422, reply
        assert reply.body["fields"][0]["field"] == "cursor", reply.body
