"""Fixing failures through the API: causes, the runs history, actors, and the four operator
actions (cancel, amend the config, re-run, skip), each with the answers DESIGN's table lists.

The real API handler on the local runtime (Step Functions, the phase Lambdas, DynamoDB), the
platform simulator's ledger as the witness that no effect is repeated unasked.
"""

from __future__ import annotations

import time
from typing import Any

from tests.api.conftest import Api, Reply, read_password

OTHER_ORG = "org-other"
ACTIONS = "/registration-batches/jobs/{job_id}"


def path(job_id: str, tail: str = "") -> str:
    return ACTIONS.format(job_id=job_id) + tail


def sub_steps(job: dict[str, Any]) -> dict[str, dict[str, Any]]:
    phases = job["step6"]["sub_step_progress"]["phases"]
    return {name: sub for phase in phases.values() for name, sub in phase["sub_steps"].items()}


def effects(api: Api, job_id: str) -> dict[str, int]:
    """Side effects on the platform per idempotency key (each counted once per key)."""
    return {e.idempotency_key: e.count for e in api.simulator.effects_for(job_id)}


def started_run(api: Api, reply: Reply) -> dict[str, Any]:
    assert reply.status == 202, reply
    api.runtime.wait_for(reply.body["execution_arn"])
    return api.client.job(reply.body["job_id"])


def completed_job(api: Api) -> dict[str, Any]:
    created = api.client.create_batch(["Cafe Aroha"])
    reply = api.client.submit(created["batch_id"], created["jobs"])
    assert reply.status == 202, reply
    return started_run(api, Reply(202, reply.body["accepted"][0], {}))


def events(api: Api, job_id: str) -> list[dict[str, Any]]:
    reply = api.client.get(path(job_id, "/events"))
    assert reply.status == 200, reply
    listed: list[dict[str, Any]] = reply.body["events"]
    return listed


# ---------------------------------------------------------------- causes


def test_a_platform_refusal_has_a_code_a_sentence_and_names_what_it_blocked(api: Api) -> None:
    # given a job whose restaurant registration the platform refused, giving its reason code
    api.fault("restaurantRegistration", "fail", platform_code="restaurant_exists")
    created = api.client.create_batch(["Cafe Aroha"])
    job = started_run(
        api,
        Reply(202, api.client.submit(created["batch_id"], created["jobs"]).body["accepted"][0], {}),
    )
    failure = job["last_failure"]
    # then the failure is coded, not retryable, carries the platform's code, and its sentence
    # holds no key or id
    assert failure["error_code"] == "platform_rejected" and failure["retryable"] is False
    assert failure["platform_code"] == "restaurant_exists"
    assert failure["error"].startswith(
        "The platform refused it: a restaurant with this name is already registered"
    )
    assert job["job_id"] not in failure["error"] and "key" not in failure["error"]
    subs = sub_steps(job)
    assert subs["restaurantRegistration"]["error_code"] == "platform_rejected"
    # and what it blocked says so
    assert subs["menuImport"]["skip_reason"] == "dependency_not_met"
    assert subs["menuImport"]["blocked_by"] == ["restaurantRegistration"]


# ---------------------------------------------------------------- runs and actors


def test_the_runs_history_lists_each_run_newest_first_with_what_it_did(api: Api) -> None:
    # given a job that failed, then was resumed to completion
    job = api.failed_job("restaurantRegistration")
    resumed = started_run(api, api.client.post(path(job["job_id"], "/resume-step-6")))
    assert resumed["status"] == "completed"
    # when its runs are read
    reply = api.client.get(path(job["job_id"], "/runs"))
    assert reply.status == 200, reply
    second, first = reply.body["runs"]
    # then run 2 (the resume) comes first, run 1 (Step 5's) after it
    assert (second["run"], second["trigger"], second["status"]) == (2, "resume", "succeeded")
    assert (first["run"], first["trigger"], first["status"]) == (1, "step5", "failed")
    assert first["actor"] == second["actor"] == "local-user"
    assert second["resume_from"] == "phase2" and first["error_code"] == "platform_rejected"
    # and each run tells only what it did: phase 1 ran once, in run 1
    assert first["sub_steps"]["restaurantRegistration"]["status"] == "failed"
    assert first["sub_steps"]["restaurantRegistration"]["error_code"] == "platform_rejected"
    assert second["sub_steps"]["restaurantRegistration"]["attempts"] == 1
    assert "cloudwaitressAccount" in first["sub_steps"]
    assert "cloudwaitressAccount" not in second["sub_steps"]
    # and another org sees nothing
    assert api.client.get(path(job["job_id"], "/runs"), org=OTHER_ORG).status == 404


def test_every_action_is_audited_with_its_actor(api: Api) -> None:
    job = api.failed_job("restaurantRegistration")
    started_run(api, api.client.post(path(job["job_id"], "/resume-step-6")))
    by_type = {e["type"]: e for e in events(api, job["job_id"])}
    assert by_type["job_created"]["actor"] == "local-user"
    assert by_type["step5_submitted"]["actor"] == "local-user"
    assert by_type["resume_requested"]["actor"] == "local-user"
    assert by_type["run_failed"]["actor"] == "system"


# ---------------------------------------------------------------- cancel


def test_cancel_stops_a_slow_run_and_leaves_the_job_resumable(api: Api) -> None:
    # given a run held up by a slow platform call in phase 2
    api.fault("restaurantRegistration", "latency", latency_ms=20_000)
    created = api.client.create_batch(["Cafe Aroha"])
    reply = api.client.submit(created["batch_id"], created["jobs"])
    job_id, arn = reply.body["accepted"][0]["job_id"], reply.body["accepted"][0]["execution_arn"]
    deadline = time.monotonic() + 30
    while sub_steps(api.client.job(job_id))["restaurantRegistration"]["status"] != "in_progress":
        assert time.monotonic() < deadline, "the slow call never started"
        time.sleep(0.05)
    # when an operator cancels it
    cancelled = api.client.post(path(job_id, "/cancel"))
    # then it is asked to stop, and the job settles as aborted, resumable
    assert cancelled.status == 202 and cancelled.body == {"job_id": job_id, "execution_arn": arn}
    api.runtime.wait_for(arn)
    job = api.client.wait_settled(job_id)
    assert job["status"] == "action_required" and job["resumable"] is True
    assert job["last_failure"]["error_code"] == "aborted" and job["last_failure"]["retryable"]
    assert sub_steps(job)["restaurantRegistration"]["error_code"] == "interrupted"
    assert [e["actor"] for e in events(api, job_id) if e["type"] == "cancel_requested"] == [
        "local-user"
    ]
    # and a second cancel finds nothing running; another org's answers 404
    assert api.client.post(path(job_id, "/cancel")).body["error"] == "not_running"
    assert api.client.post(path(job_id, "/cancel")).status == 409
    assert api.client.post(path(job_id, "/cancel"), org=OTHER_ORG).status == 404


# ---------------------------------------------------------------- amend the config


def account_refused(api: Api) -> dict[str, Any]:
    """A job whose account the platform refused, and nothing else has read the email yet."""
    api.fault("cloudwaitressAccount", "fail")
    created = api.client.create_batch(["Cafe Aroha"])
    onboarding = {"createOnboardingUser": False, "syncOnboardingRecord": False}
    reply = api.client.submit(created["batch_id"], created["jobs"], onboarding=onboarding)
    return started_run(api, Reply(202, reply.body["accepted"][0], {}))


def test_a_refused_email_is_fixed_by_amending_the_config_then_resuming(api: Api) -> None:
    # given the platform refused the account (Step 5 is locked)
    job = account_refused(api)
    job_id = job["job_id"]
    assert job["last_failure"]["sub_step"] == "cloudwaitressAccount"
    # when the operator amends the account email
    amended = api.client.call(
        "PATCH", path(job_id, "/execution-config"), {"account": {"email": "new@aroha.example"}}
    )
    # then the config changes, Step 5 stays completed, and the change is audited (no values)
    assert amended.status == 200, amended
    assert amended.body["execution_config"]["account"]["email"] == "new@aroha.example"
    assert amended.body["steps"][4]["status"] == "completed"
    audit = [e for e in events(api, job_id) if e["type"] == "config_amended"]
    assert audit[0]["detail"] == {"fields": ["account.email"]} and audit[0]["actor"]
    # and a resume creates the account with the new email
    done = started_run(api, api.client.post(path(job_id, "/resume-step-6")))
    assert done["status"] == "completed"
    accounts = [o.attributes["email"] for o in api.simulator.objects("account")]
    assert accounts == ["new@aroha.example"]


def test_a_field_a_completed_sub_step_read_cannot_change(api: Api) -> None:
    job = completed_job(api)
    before = api.job_item(job["job_id"])
    reply = api.client.call(
        "PATCH",
        path(job["job_id"], "/execution-config"),
        {"account": {"email": "late@aroha.example"}, "menu": {"addItemTags": False}},
    )
    assert reply.status == 409 and reply.body["error"] == "config_in_use", reply
    used = {f["field"]: f["used_by"] for f in reply.body["fields"]}
    assert "cloudwaitressAccount" in used["account.email"]
    assert used["menu.addItemTags"] == ["itemTags"]
    assert api.job_item(job["job_id"]) == before


def test_an_amendment_is_validated_and_changes_nothing_when_refused(api: Api) -> None:
    # given a failed job
    job = api.failed_job("restaurantRegistration")
    before = api.job_item(job["job_id"])
    amend = path(job["job_id"], "/execution-config")
    # when amendments that cannot be read are sent
    for body in (
        {"account": {"email": "no"}},
        {"steps_enabled": {"nope": True}},
        {"menu": None},
        {"account": {"email": None}},
        {"menu": {"addItemTags": "yes"}},
    ):
        reply = api.client.call("PATCH", amend, body)
        # then each answers 422 naming what is wrong, and the job is as it was
        assert reply.status == 422 and reply.body["error"] == "validation_error", (body, reply)
    assert api.job_item(job["job_id"]) == before
    assert (
        api.client.call("PATCH", amend, {"menu": {"addItemTags": False}}, org=OTHER_ORG).status
        == 404
    )


def test_actions_that_need_a_settled_job_are_refused_while_a_run_holds_it(api: Api) -> None:
    # given a job whose run is under way
    created, arn = api.running_job()
    job_id = created["jobs"][0]["job_id"]
    # when an operator amends, re-runs or skips meanwhile
    replies = [
        api.client.call(
            "PATCH", path(job_id, "/execution-config"), {"menu": {"addItemTags": False}}
        ),
        api.client.post(path(job_id, "/rerun"), {"sub_steps": ["codeGeneration"]}),
        api.client.post(path(job_id, "/sub-steps/paymentConfig/skip"), {"reason": "x"}),
    ]
    # then each is refused with the running execution named, and the run goes on alone
    for reply in replies:
        assert reply.status == 409 and reply.body["error"] == "already_running", reply
        assert reply.body["active_execution"] == arn
    api.runtime.wait_for(arn)
    assert api.client.job(job_id)["status"] == "completed"
    assert len(api.executions(job_id)) == 1


def test_a_new_password_is_encrypted_anew(api: Api) -> None:
    job = account_refused(api)
    ref_before = api.job_item(job["job_id"])["execution_config"]["account"]["password_secret_ref"]
    reply = api.client.call(
        "PATCH",
        path(job["job_id"], "/execution-config"),
        {"account": {"password": "An0ther-pass-456"}},
    )
    assert reply.status == 200, reply
    ref_after = api.job_item(job["job_id"])["execution_config"]["account"]["password_secret_ref"]
    assert ref_after != ref_before
    assert read_password(ref_after) == "An0ther-pass-456"
    assert "An0ther" not in str(events(api, job["job_id"]))


# ---------------------------------------------------------------- re-run


def test_a_rerun_repeats_the_named_sub_step_and_its_dependents_exactly_once(api: Api) -> None:
    # given a completed job
    job = completed_job(api)
    job_id = job["job_id"]
    before = effects(api, job_id)
    # when the operator re-runs codeGeneration
    reply = api.client.post(path(job_id, "/rerun"), {"sub_steps": ["codeGeneration"]})
    assert reply.status == 202, reply
    assert reply.body["reset"] == ["codeGeneration", "websiteConfig"]
    done = started_run(api, reply)
    # then each of the two took effect once more, under a new key, and nothing else repeated
    after = effects(api, job_id)
    added = {key: times for key, times in after.items() if key not in before}
    assert added == {f"{job_id}:codeGeneration:1": 1, f"{job_id}:websiteConfig:1": 1}
    assert all(after[key] == times for key, times in before.items())
    assert done["status"] == "completed" and sub_steps(done)["codeGeneration"]["generation"] == 1
    runs = api.client.get(path(job_id, "/runs")).body["runs"]
    assert runs[0]["trigger"] == "rerun" and set(runs[0]["sub_steps"]) == {
        "codeGeneration",
        "websiteConfig",
    }


def test_a_rerun_is_refused_for_what_must_exist_once_and_for_bad_names(api: Api) -> None:
    job = completed_job(api)
    job_id = job["job_id"]
    refused = api.client.post(path(job_id, "/rerun"), {"sub_steps": ["cloudwaitressAccount"]})
    assert refused.status == 409 and refused.body["error"] == "not_rerunnable", refused
    assert api.client.post(path(job_id, "/rerun"), {"sub_steps": []}).status == 422
    assert api.client.post(path(job_id, "/rerun"), {"sub_steps": ["nope"]}).status == 422
    other = api.client.post(
        path(job_id, "/rerun"), {"sub_steps": ["codeGeneration"]}, org=OTHER_ORG
    )
    assert other.status == 404
    assert len(api.executions(job_id)) == 1


def test_a_rerun_of_a_sub_step_that_has_not_completed_is_refused(api: Api) -> None:
    job = api.failed_job("restaurantRegistration")
    reply = api.client.post(path(job["job_id"], "/rerun"), {"sub_steps": ["menuImport"]})
    assert reply.status == 409 and reply.body["error"] == "not_completed", reply


# ---------------------------------------------------------------- skip, completed with errors


def test_a_failed_non_blocking_sub_step_completes_with_errors_until_an_operator_skips_it(
    api: Api,
) -> None:
    # given a job whose payment configuration (non-blocking) failed
    job = api.failed_job("paymentConfig")
    job_id, batch_id = job["job_id"], job["batch_id"]
    # then the job is completed, but Step 6 and the batch say "with errors"
    assert job["status"] == "completed" and job["step6"]["status"] == "completed_with_errors"
    assert job["resumable"] is True
    batch = api.client.get(f"/registration-batches/{batch_id}").body
    assert batch["status"] == "completed_with_errors"
    assert batch["job_counts"]["completed_with_errors"] == 1
    assert batch["job_counts"]["completed"] == 0
    # when an operator accepts it as skipped
    reply = api.client.post(
        path(job_id, "/sub-steps/paymentConfig/skip"), {"reason": "paid by invoice"}
    )
    # then it is skipped for good, and nothing is left to resume
    assert reply.status == 200, reply
    skipped = sub_steps(reply.body)["paymentConfig"]
    assert (skipped["status"], skipped["skip_reason"]) == ("skipped", "operator")
    assert skipped["skip_note"] == "paid by invoice" and skipped["skipped_by"] == "local-user"
    assert reply.body["step6"]["status"] == "completed" and reply.body["resumable"] is False
    batch = api.client.get(f"/registration-batches/{batch_id}").body
    assert batch["status"] == "completed" and batch["job_counts"]["completed"] == 1
    assert [e["detail"] for e in events(api, job_id) if e["type"] == "sub_step_skipped"] == [
        {"sub_step": "paymentConfig", "reason": "paid by invoice"}
    ]
    # and a second skip finds nothing failed
    again = api.client.post(path(job_id, "/sub-steps/paymentConfig/skip"), {"reason": "x"})
    assert again.status == 409 and again.body["error"] == "not_failed"


def test_a_blocking_sub_step_cannot_be_skipped(api: Api) -> None:
    job = api.failed_job("restaurantRegistration")
    before = api.job_item(job["job_id"])
    reply = api.client.post(
        path(job["job_id"], "/sub-steps/restaurantRegistration/skip"), {"reason": "no"}
    )
    assert reply.status == 409 and reply.body["error"] == "blocking_sub_step", reply
    assert api.client.post(path(job["job_id"], "/sub-steps/menuImport/skip"), {}).status == 422
    assert api.job_item(job["job_id"]) == before
