"""Steps 1-4 through the API and the JobPipeline state machine on the local runtime: a
restaurant given by its website alone is read (Step 1), its contacts found (Step 2), its
company chosen by the operator (Step 3) and fetched (Step 4), then waits at Step 5 exactly
like a job created with the full form; faults at each step fail that step, which is retried
from itself. The sample websites are served on 127.0.0.1 by the runtime (local.site_server),
the directory and register are the runtime's simulator, reached over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest

from local.samples import config_data
from local.server import LocalServer
from tests.api.conftest import ORG, Api, HttpClient, served
from tests.operations.conftest import poll

OTHER_ORG = "org-b"
__all__ = ["served"]  # the local server fixture, used below


def _poll(check: Callable[[], Any], what: str, timeout_s: float = 60) -> Any:
    return poll(check, timeout_s, what)


def _create(api: Api, *restaurants: dict[str, Any]) -> dict[str, Any]:
    reply = api.client.post(
        "/registration-batches", {"name": "From websites", "restaurants": list(restaurants)}
    )
    assert reply.status == 201, reply
    created: dict[str, Any] = reply.body
    return created


def _site(api: Api, slug: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "website_url": api.runtime.sites.url(slug), **extra}


def _step(job: dict[str, Any], n: int) -> str:
    status: str = job["steps"][n - 1]["status"]
    return status


def _waits(api: Api, job_id: str, step: int, status: str) -> dict[str, Any]:
    """Poll the job until Step `step` is `status` and no execution holds it."""

    def reached() -> dict[str, Any] | None:
        job = api.client.job(job_id)
        return job if job["current_step"] == step and _step(job, step) == status else None

    found: dict[str, Any] = _poll(reached, f"job {job_id} at Step {step} {status}")
    return found


# ---------------------------------------------------------------- the whole story


def test_a_restaurant_given_by_its_website_alone_reaches_step_6s_completion(api: Api) -> None:
    # given a batch with one restaurant known only by its name and website
    created = _create(api, _site(api, "luigis-trattoria", "Luigi's Trattoria"))
    job_id = created["jobs"][0]["job_id"]
    # then Step 1 starts at once
    assert created["jobs"][0]["status"] == "in_progress"
    # and Steps 1 and 2 complete from the site, and Step 3 waits for the operator's choice
    job = _waits(api, job_id, 3, "action_required")
    assert [_step(job, n) for n in (1, 2)] == ["completed", "completed"]
    assert job["steps"][0]["source"] == "automation"
    assert job["site"]["items"] >= 10 and job["site"]["skipped_items"] >= 1
    menu = job["restaurant"]["menu"]
    assert menu["menu_id"] == f"menu-{job_id}" and menu["categories"]
    assert job["restaurant"]["branding"]["primary_color"].startswith("#")
    assert job["restaurant"]["email"] and job["restaurant"]["phone"].startswith("+64")
    candidates = job["step3"]["candidates"]
    assert len(candidates) >= 2
    assert {"company_number", "name", "address"} <= set(candidates[0])

    # when the operator chooses the first candidate
    number = candidates[0]["company_number"]
    reply = api.client.post(
        f"/registration-batches/jobs/{job_id}/step-3", {"company_number": number}
    )
    assert reply.status == 202, reply
    assert reply.body["current_step"] == 4 and _step(reply.body, 3) == "completed"

    # then Step 4 fetches the company and the job waits at Step 5 like any other
    job = _waits(api, job_id, 5, "action_required")
    company = job["restaurant"]["company"]
    assert company["number"] == number and company["directors"] and company["address"]
    assert job["status"] == "action_required"
    assert job["step3"]["company_number"] == number
    events = api.client.get(f"/registration-batches/jobs/{job_id}/events").body["events"]
    answered = [e for e in events if e["type"] == "step_answered"]
    assert answered and answered[0]["actor"] != "system"

    # and Step 5 then Step 6 run as for a job created with the full form
    config = config_data("Luigis Trattoria")
    config["menu"]["selectedMenuId"] = menu["menu_id"]
    reply = api.client.submit_config(created["batch_id"], job_id, config)
    assert reply.status == 202 and reply.body["accepted"], reply
    done = api.client.wait_settled(job_id, timeout_s=120)
    assert done["status"] == "completed", done["last_failure"]
    assert _step(done, 6) == "completed"


# ---------------------------------------------------------------- Step 2


def test_several_emails_on_the_site_wait_for_the_operator_who_completes_step_2(api: Api) -> None:
    created = _create(api, _site(api, "harbour-fish", "Harbour Fish"))
    job_id = created["jobs"][0]["job_id"]
    job = _waits(api, job_id, 2, "action_required")
    candidates = job["step2"]["candidates"]
    assert len(candidates["emails"]) == 2
    assert job["status"] == "action_required"

    # a bad phone is refused, naming the field, and changes nothing
    reply = api.client.post(
        f"/registration-batches/jobs/{job_id}/step-2",
        {"email": candidates["emails"][0], "phone": "not a phone"},
    )
    assert reply.status == 422, reply
    assert [f["field"] for f in reply.body["fields"]] == ["phone"]
    assert _step(api.client.job(job_id), 2) == "action_required"

    # the operator's choice completes Step 2; the phone is stored in E.164
    reply = api.client.post(
        f"/registration-batches/jobs/{job_id}/step-2",
        {"email": candidates["emails"][1], "phone": "04 555 0188"},
    )
    assert reply.status == 202, reply
    job = _waits(api, job_id, 3, "action_required")
    assert job["restaurant"]["email"] == candidates["emails"][1]
    assert job["restaurant"]["phone"] == "+6445550188"
    assert job["steps"][1]["source"] == "user"

    # Step 2 no longer takes an answer
    again = api.client.post(
        f"/registration-batches/jobs/{job_id}/step-2",
        {"email": candidates["emails"][0], "phone": "04 555 0188"},
    )
    assert again.status == 409 and again.body["error"] == "not_waiting", again


def test_a_site_without_contacts_is_completed_from_the_directory(api: Api) -> None:
    created = _create(api, _site(api, "spice-route", "Spice Route"))
    job_id = created["jobs"][0]["job_id"]

    job = _waits(api, job_id, 3, "action_required")

    assert job["step2"]["candidates"]["sources"] == ["directory"]
    lookups = [e for e in api.runtime.registers.ledger() if e["job_id"] == job_id]
    assert {e["operation"] for e in lookups} == {"lookup", "search"}


# ---------------------------------------------------------------- failures, retries


def test_a_site_without_a_menu_fails_step_1_with_its_reason_and_is_retried_from_itself(
    api: Api,
) -> None:
    created = _create(api, _site(api, "corner-cafe", "Corner Cafe"))
    job_id = created["jobs"][0]["job_id"]

    job = _waits(api, job_id, 1, "failed")

    assert job["status"] == "failed"
    failure = job["last_failure"]
    assert failure["step"] == 1 and failure["error_code"] == "no_menu_found"
    assert "menu" in failure["error"] and "{" not in failure["error"]

    # the failures view groups it by step and cause
    # (the failures index is eventually consistent: read until it has caught up)
    def grouped() -> list[tuple[Any, ...]]:
        body = api.client.get(f"/failures?batch_id={created['batch_id']}").body
        return [(g["step"], g["error_code"], g["count"]) for g in body["groups"]]

    assert _poll(lambda: grouped() == [(1, "no_menu_found", 1)], "the failure grouped")
    # only a failed step is retried; Step 3 never is
    refused = api.client.post(f"/registration-batches/jobs/{job_id}/steps/2/retry")
    assert refused.status == 409 and refused.body["error"] == "step_not_failed", refused
    assert api.client.post(f"/registration-batches/jobs/{job_id}/steps/3/retry").status == 422
    # a retry runs Step 1 again (the site still has no menu: it fails again, once more)
    reply = api.client.post(f"/registration-batches/jobs/{job_id}/steps/1/retry")
    assert reply.status == 202, reply
    assert reply.body["status"] == "in_progress" and reply.body["last_failure"] is None
    again = _waits(api, job_id, 1, "failed")
    assert again["last_failure"]["error_code"] == "no_menu_found"
    kinds = [
        e["type"]
        for e in api.client.get(f"/registration-batches/jobs/{job_id}/events").body["events"]
    ]
    assert kinds.count("step_failed") == 2 and kinds.count("step_retry_requested") == 1


def test_an_unreachable_site_fails_step_1_site_unreachable(api: Api) -> None:
    # a port nothing listens on (the site server's own port, a path it does not serve: 404)
    url = api.runtime.sites.url("luigis-trattoria").replace("luigis-trattoria", "no-such-site")
    created = _create(api, {"name": "Gone Bistro", "website_url": url})
    job_id = created["jobs"][0]["job_id"]

    job = _waits(api, job_id, 1, "failed")

    assert job["last_failure"]["error_code"] == "site_unreachable"
    assert job["last_failure"]["retryable"] is True
    assert "404" in job["last_failure"]["error"]


def test_a_register_that_fails_at_step_4_fails_it_and_a_retry_completes_it(api: Api) -> None:
    created = _create(api, _site(api, "green-bowl", "Green Bowl"))
    job_id = created["jobs"][0]["job_id"]
    job = _waits(api, job_id, 3, "action_required")
    number = job["step3"]["candidates"][0]["company_number"]
    # the register refuses the next look-up of the company's details
    api.runtime.registers.inject("details", "fail", times=1)
    reply = api.client.post(
        f"/registration-batches/jobs/{job_id}/step-3", {"company_number": number}
    )
    assert reply.status == 202, reply

    failed = _waits(api, job_id, 4, "failed")
    assert failed["last_failure"]["error_code"] == "register_rejected"

    reply = api.client.post(f"/registration-batches/jobs/{job_id}/steps/4/retry")
    assert reply.status == 202, reply
    job = _waits(api, job_id, 5, "action_required")
    assert job["restaurant"]["company"]["number"] == number
    # Steps 1-3 did not run again: one read of the site's register search, one of each detail
    ops = [e for e in api.runtime.registers.ledger() if e["job_id"] == job_id]
    searches = [e for e in ops if e["operation"] == "search"]
    assert len(searches) == 1 and searches[0]["calls"] == 1


def test_a_transient_register_fault_is_retried_within_the_step(api: Api) -> None:
    api.runtime.registers.inject("search", "transient", times=1)
    created = _create(api, _site(api, "green-bowl", "Green Bowl"))
    job_id = created["jobs"][0]["job_id"]

    job = _waits(api, job_id, 3, "action_required")

    assert job["step3"]["candidates"] and job["step3"]["search_error"] is None
    assert job["last_failure"] is None


# ---------------------------------------------------------------- Step 3 and the rules


def test_step_3_takes_any_number_the_register_knows_and_refuses_an_unknown_one(api: Api) -> None:
    created = _create(api, _site(api, "luigis-trattoria", "Luigi's Trattoria"))
    job_id = created["jobs"][0]["job_id"]
    job = _waits(api, job_id, 3, "action_required")

    unknown = api.client.post(
        f"/registration-batches/jobs/{job_id}/step-3", {"company_number": "0000000"}
    )
    assert unknown.status == 422, unknown
    assert unknown.body["fields"][0]["field"] == "company_number"
    assert _step(api.client.job(job_id), 3) == "action_required"

    # a number the register knows, though not among the candidates (another restaurant's)
    other = _create(api, _site(api, "green-bowl", "Green Bowl"))
    other_job = _waits(api, other["jobs"][0]["job_id"], 3, "action_required")
    elsewhere = other_job["step3"]["candidates"][0]["company_number"]
    assert elsewhere not in {c["company_number"] for c in job["step3"]["candidates"]}
    reply = api.client.post(
        f"/registration-batches/jobs/{job_id}/step-3", {"company_number": elsewhere}
    )
    assert reply.status == 202, reply


def test_step_5_waits_for_steps_1_to_4_and_another_org_sees_nothing(api: Api) -> None:
    created = _create(api, _site(api, "harbour-fish", "Harbour Fish"))
    job_id = created["jobs"][0]["job_id"]
    _waits(api, job_id, 2, "action_required")

    reply = api.client.post(
        f"/registration-batches/{created['batch_id']}/step-5",
        {"jobs": [{"job_id": job_id, "execution_config": config_data("Harbour Fish")}]},
    )
    assert reply.status == 202, reply
    assert [r["code"] for r in reply.body["rejected"]] == ["steps_pending"]

    for path, body in (
        (
            f"/registration-batches/jobs/{job_id}/step-2",
            {"email": "a@b.example", "phone": "+6445550101"},
        ),
        (f"/registration-batches/jobs/{job_id}/step-3", {"company_number": "1234567"}),
        (f"/registration-batches/jobs/{job_id}/steps/1/retry", None),
    ):
        assert api.client.post(path, body, org=OTHER_ORG).status == 404
    assert api.client.get(f"/registration-batches/jobs/{job_id}", org=OTHER_ORG).status == 404


def test_the_batch_lists_the_jobs_waiting_at_each_step(api: Api) -> None:
    created = _create(
        api,
        _site(api, "harbour-fish", "Harbour Fish"),
        _site(api, "luigis-trattoria", "Luigi's Trattoria"),
        _site(api, "corner-cafe", "Corner Cafe"),
    )
    fish, luigis, cafe = (j["job_id"] for j in created["jobs"])
    _waits(api, fish, 2, "action_required")
    _waits(api, luigis, 3, "action_required")
    _waits(api, cafe, 1, "failed")
    base = f"/registration-batches/{created['batch_id']}/jobs"

    def listed(query: str) -> list[str]:
        reply = api.client.get(f"{base}?{query}")
        assert reply.status == 200, reply
        return [j["job_id"] for j in reply.body["jobs"]]

    # the listing index is eventually consistent: each list is read until it has caught up
    for query, job in (
        ("current_step=2&status=action_required", fish),
        ("current_step=3&status=action_required", luigis),
        ("current_step=1&error_code=no_menu_found", cafe),
    ):
        assert _poll(lambda q=query, j=job: listed(q) == [j], query)
    assert api.client.get(f"{base}?current_step=9").status == 422


def test_a_bad_website_restaurant_is_refused_and_nothing_is_created(api: Api) -> None:
    reply = api.client.post(
        "/registration-batches",
        {"name": "Bad", "restaurants": [{"name": "X", "website_url": "javascript:alert(1)"}]},
    )

    assert reply.status == 422, reply
    assert reply.body["fields"][0]["field"].endswith("website_url")
    assert api.client.get("/registration-batches").body["batches"] == []
    assert ORG  # the batches above were the caller's org's


def test_a_directory_that_refuses_fails_step_2_and_a_retry_completes_it(api: Api) -> None:
    api.runtime.registers.inject("lookup", "fail", times=1)
    created = _create(api, _site(api, "spice-route", "Spice Route"))
    job_id = created["jobs"][0]["job_id"]

    failed = _waits(api, job_id, 2, "failed")
    assert failed["last_failure"]["error_code"] == "register_rejected"
    assert failed["last_failure"]["step"] == 2
    assert _step(failed, 1) == "completed"  # Step 1's work is kept

    reply = api.client.post(f"/registration-batches/jobs/{job_id}/steps/2/retry")
    assert reply.status == 202, reply
    job = _waits(api, job_id, 3, "action_required")
    assert job["restaurant"]["email"] == "hello@spiceroute.example"
    # Step 1 did not run again: the site was read once
    assert job["site"]["items"] == 4


def test_a_register_search_that_fails_leaves_step_3_to_a_typed_number(api: Api) -> None:
    api.runtime.registers.inject("search", "fail", times=1)
    created = _create(api, _site(api, "green-bowl", "Green Bowl"))
    job_id = created["jobs"][0]["job_id"]

    job = _waits(api, job_id, 3, "action_required")
    assert job["step3"]["candidates"] == []
    assert "refused" in job["step3"]["search_error"]
    assert job["last_failure"] is None  # nothing failed that a retry would fix: a choice is due

    reply = api.client.post(
        f"/registration-batches/jobs/{job_id}/step-3", {"company_number": "1766022"}
    )
    assert reply.status == 202, reply
    done = _waits(api, job_id, 5, "action_required")
    assert done["restaurant"]["company"]["name"] == "Green Bowl Eatery Limited"


def test_a_step_whose_function_dies_is_failed_interrupted_and_retried(api: Api) -> None:
    # the register answers Step 4's look-up long after the function's time limit (and within
    # the register client's 10 s): the timed-out handler runs on (a late invocation), and the
    # failure must be recorded before it gets its answer (with 3 s, a loaded machine let the
    # late handler complete Step 4 first, as a frozen Lambda sandbox never would)
    api.runtime.registers.inject("details", "latency", latency_ms=8_000)
    api.runtime.lambdas.timeouts["Step4Function"] = 1.0
    created = _create(api, _site(api, "luigis-trattoria", "Luigi's Trattoria"))
    job_id = created["jobs"][0]["job_id"]
    job = _waits(api, job_id, 3, "action_required")
    number = job["step3"]["candidates"][0]["company_number"]
    reply = api.client.post(
        f"/registration-batches/jobs/{job_id}/step-3", {"company_number": number}
    )
    assert reply.status == 202, reply

    failed = _waits(api, job_id, 4, "failed")
    assert failed["last_failure"]["error_code"] in ("timed_out", "interrupted")

    api.runtime.lambdas.timeouts.pop("Step4Function")
    assert api.client.post(f"/registration-batches/jobs/{job_id}/steps/4/retry").status == 202
    done = _waits(api, job_id, 5, "action_required")
    assert done["restaurant"]["company"]["number"] == number

    # when the timed-out handler gets its answer at last, its write is refused (or, on a very
    # loaded machine, its client gave up first): the job the retry completed does not change
    api.runtime.lambdas.wait_idle()
    (late,) = [i for i in api.runtime.lambdas.late if i.function == "Step4Function"]
    assert late.error_type in ("SupersededExecutionError", "TransientRegisterError"), late
    assert api.client.job(job_id) == done


SLUGS = {
    "luigis-trattoria": (3, "action_required"),
    "green-bowl": (3, "action_required"),
    "harbour-fish": (2, "action_required"),
    "corner-cafe": (1, "failed"),
    "spice-route": (2, "action_required"),  # "Spice Route <n>" is not in the directory
}


def _batch_of_websites(api: Api, size: int) -> None:
    """`size` restaurants from the five sample sites in one batch: each job ends where its
    site leads it, one JobPipeline execution each, no job left in progress."""
    slugs = sorted(SLUGS)
    restaurants = [
        {"name": f"Restaurant {i}", "website_url": api.runtime.sites.url(slugs[i % len(slugs)])}
        for i in range(size)
    ]
    created = _create(api, *restaurants)
    assert len(created["jobs"]) == size
    base = f"/registration-batches/{created['batch_id']}/jobs?limit=200"

    def all_settled() -> list[dict[str, Any]] | None:
        jobs: list[dict[str, Any]] = []
        cursor = None
        while True:
            reply = api.client.get(base + (f"&cursor={cursor}" if cursor else ""))
            jobs += reply.body["jobs"]
            cursor = reply.body["next_cursor"]
            if not cursor:
                break
        return None if any(j["status"] == "in_progress" for j in jobs) else jobs

    jobs = _poll(all_settled, f"{size} website jobs settled", timeout_s=60 + size * 2)
    by_url = {r["name"]: r["website_url"] for r in restaurants}
    for job in jobs:
        slug = by_url[job["restaurant_name"]].rstrip("/").rsplit("/", 1)[-1]
        assert (job["current_step"], job["status"]) == SLUGS[slug], job
    pages = boto3.client("stepfunctions").get_paginator("list_executions")
    names = [
        e["name"]
        for page in pages.paginate(stateMachineArn=api.runtime.pipeline_arn)
        for e in page["executions"]
    ]
    assert len(names) == len(set(names)) == size  # one each, none twice


def test_a_batch_of_websites_settles_every_job_where_its_site_leads(api: Api) -> None:
    _batch_of_websites(api, 40)


@pytest.mark.scale
@pytest.mark.timeout(1_800)
def test_a_batch_of_300_websites_settles_every_job_where_its_site_leads(api: Api) -> None:
    _batch_of_websites(api, 300)


def test_the_local_server_lists_the_sample_sites_and_injects_register_faults(
    served: tuple[LocalServer, HttpClient],
) -> None:
    _, client = served
    sites = client.get("/__sim/sites", org=None).body["sites"]
    assert {s["slug"] for s in sites} == {
        "luigis-trattoria",
        "green-bowl",
        "harbour-fish",
        "corner-cafe",
        "spice-route",
    }
    assert all(s["url"].startswith("http://127.0.0.1:") for s in sites)

    bad = client.post("/__sim/registers/faults", {"operation": "purge", "mode": "fail"}, org=None)
    assert bad.status == 422 and bad.body["fields"][0]["field"] == "operation"
    added = client.post(
        "/__sim/registers/faults", {"operation": "search", "mode": "fail"}, org=None
    )
    assert added.status == 201 and added.body["faults"][0]["operation"] == "search"
    assert client.call("DELETE", "/__sim/registers/faults", org=None).body == {"faults": []}


def _a_job_slowed_at_step_2(api: Api) -> str:
    """A website job whose Step 2 waits 2.5 s at the directory (time to stop its run)."""
    api.runtime.registers.inject("lookup", "latency", latency_ms=2_500)
    created = _create(api, _site(api, "spice-route", "Spice Route"))
    job_id: str = created["jobs"][0]["job_id"]
    return job_id


def test_a_pipeline_stopped_from_the_console_is_settled_by_its_status_change_event(
    api: Api,
) -> None:
    # given a job whose Step 2 is slowed at the directory
    job_id = _a_job_slowed_at_step_2(api)
    sfn = boto3.client("stepfunctions")

    def held_at_step_2() -> str | None:
        item = api.job_item(job_id)
        arn: str | None = item.get("pipeline", {}).get("execution")
        return arn if item["current_step"] == 2 else None

    arn = _poll(held_at_step_2, "Step 2 running")

    # when its execution is stopped from the console while Step 2's task is in flight
    sfn.stop_execution(executionArn=arn, error="Stopped", cause="stopped from the console")

    # then the reconciler's rule alone (no read, no action: the table is read directly)
    # records Step 2 failed, aborted, and releases the job
    def settled() -> dict[str, Any] | None:
        item = api.job_item(job_id)
        return item if item.get("pipeline", {}).get("execution") is None else None

    item = _poll(settled, "the stopped run settled by its event")
    assert (item["current_step"], item["steps"][1]["status"]) == (2, "failed")
    assert item["last_failure"]["error_code"] == "aborted"
    # (the runtime lists an event once the reconciler has handled it)
    _poll(lambda: any(d.execution_arn == arn for d in api.runtime.delivered), "the event")

    # and the task that finished late could not move the job on (its run no longer holds it):
    # once the stopped execution has ended for moto too, the job is still where it was
    _poll(
        lambda: sfn.describe_execution(executionArn=arn)["status"] != "RUNNING",
        "stopped",
        timeout_s=20,
    )
    job = api.client.job(job_id)
    assert (job["current_step"], _step(job, 2), _step(job, 3)) == (2, "failed", "pending")

    # and the operator retries Step 2 from itself
    api.runtime.registers.clear_faults()
    assert api.client.post(f"/registration-batches/jobs/{job_id}/steps/2/retry").status == 202
    _waits(api, job_id, 3, "action_required")


@pytest.mark.parametrize("api", [{"deliver_events": False}], indirect=True)
def test_a_stopped_pipeline_whose_event_is_lost_is_settled_when_the_operator_acts(
    api: Api,
) -> None:
    # given a job whose Step 2 is slowed at the directory, and its execution stopped meanwhile
    # with its status-change event lost (EventBridge gave up, the event is in the queue)
    job_id = _a_job_slowed_at_step_2(api)
    held = _waits(api, job_id, 2, "in_progress")
    sfn = boto3.client("stepfunctions")
    arn = _poll(lambda: api.job_item(job_id).get("pipeline", {}).get("execution"), "the execution")
    sfn.stop_execution(executionArn=arn, error="Stopped", cause="stopped from the console")
    _poll(lambda: sfn.describe_execution(executionArn=arn)["status"] == "ABORTED", "stopped")
    assert held["status"] == "in_progress"

    # (as on AWS, the task in flight finishes its step: Step 2 completes, the job moves to
    # Step 3, held by an execution that no longer runs, so Step 3's search never happens)
    _poll(lambda: api.job_item(job_id)["current_step"] == 3, "Step 2 finished late")

    # when the operator acts on the job (here: a retry of Step 2, which is refused)
    reply = api.client.post(f"/registration-batches/jobs/{job_id}/steps/2/retry")

    # then the stopped run was settled first: Step 3 waits for a typed company number
    assert reply.status == 409 and reply.body["error"] == "step_not_failed", reply
    job = api.client.job(job_id)
    assert (job["current_step"], _step(job, 3)) == (3, "action_required")
    assert "aborted" in job["step3"]["search_error"]
    assert api.job_item(job_id)["pipeline"].get("execution") is None
    reply = api.client.post(
        f"/registration-batches/jobs/{job_id}/step-3", {"company_number": "2088214"}
    )
    assert reply.status == 202, reply
    done = _waits(api, job_id, 5, "action_required")
    assert done["restaurant"]["company"]["name"] == "Spice Route Kitchen Limited"
