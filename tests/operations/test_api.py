"""POST/GET /operations: validation before anything starts, org scoping, client tokens."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import boto3
import pytest

from clients.task_tokens import OperationStartError
from handlers import wiring
from local.template import FAKE_ACCOUNT
from state.operations import OperationRepository, encode_cursor
from tests.operations.conftest import ORG, Api, poll, wait_operation

OTHER_ORG = "org-b"


def _operations_started(api: Api) -> int:
    sfn = boto3.client("stepfunctions")
    return len(sfn.list_executions(stateMachineArn=api.runtime.bulk_operation_arn)["executions"])


def _operation_objects() -> list[str]:
    s3 = boto3.client("s3")
    found = s3.list_objects_v2(Bucket="artifactsbucket", Prefix="operations/")
    return [o["Key"] for o in found.get("Contents", [])]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "resume_step6", "selector": {}}, "selector"),
        (
            {"action": "resume_step6", "selector": {"batch_id": "b", "failed_sub_step": "nope"}},
            "selector.failed_sub_step",
        ),
        (
            {"action": "resume_step6", "selector": {"batch_id": "b", "status": "sleeping"}},
            "selector.status",
        ),
        (
            {"action": "resume_step6", "selector": {"batch_id": "b", "error_code": "oops"}},
            "selector.error_code",
        ),
        (
            {"action": "resume_step6", "selector": {"batch_id": "b"}, "max_concurrency": 0},
            "max_concurrency",
        ),
        (
            {"action": "resume_step6", "selector": {"batch_id": "b"}, "max_concurrency": 1001},
            "max_concurrency",
        ),
        ({"action": "explode", "selector": {"batch_id": "b"}}, "action"),
        ({"action": "submit_step5", "selector": {"job_ids": ["a"]}}, "execution_config"),
        (
            {"action": "submit_step5", "selector": {"job_ids": ["a"]}, "execution_config": {}},
            "generate_passwords",
        ),
        (
            {
                "action": "submit_step5",
                "selector": {"job_ids": ["a"]},
                "execution_config": {},
                "generate_passwords": True,
                "per_job": {"zzz": {}},
            },
            "per_job",
        ),
        (
            {
                "action": "submit_step5",
                "selector": {"job_ids": ["a"]},
                "execution_config": {"steps_enabled": {"nope": True}},
                "generate_passwords": True,
            },
            "execution_config",
        ),
        (
            {
                "action": "resume_step6",
                "selector": {"job_ids": ["a"] * 2 + [str(n) for n in range(10_001)]},
            },
            "selector.job_ids",
        ),
    ],
)
def test_invalid_input_is_a_422_before_anything_starts(
    api: Api, body: dict[str, Any], field: str
) -> None:
    reply = api.client.post("/operations", body)
    assert reply.status == 422, reply
    assert reply.body["error"] == "validation_error"
    assert any(f["field"].startswith(field) for f in reply.body["fields"]), reply
    assert _operations_started(api) == 0
    assert _operation_objects() == []
    assert api.client.get("/operations").body["operations"] == []


def _resume_of_a_new_batch(api: Api) -> tuple[dict[str, Any], str]:
    """A batch of one job waiting at Step 5, and a resume operation over it (202)."""
    created = api.client.create_batch(["Cafe Aroha"])
    reply = api.client.post(
        "/operations", {"action": "resume_step6", "selector": {"batch_id": created["batch_id"]}}
    )
    assert reply.status == 202, reply
    return created, reply.body["operation_id"]


def test_another_orgs_operation_is_not_found(api: Api) -> None:
    created, op = _resume_of_a_new_batch(api)
    for path in (f"/operations/{op}", f"/operations/{op}/jobs"):
        assert api.client.get(path, org=OTHER_ORG).status == 404
    assert api.client.post(f"/operations/{op}/cancel", org=OTHER_ORG).status == 404
    assert api.client.get("/operations", org=OTHER_ORG).body["operations"] == []
    other = api.client.post(
        "/operations",
        {"action": "resume_step6", "selector": {"batch_id": created["batch_id"]}},
        org=OTHER_ORG,
    )
    assert other.status == 404, other


def test_a_client_token_gives_the_same_operation_for_the_same_body_and_409_for_another(
    api: Api,
) -> None:
    created = api.client.create_batch(["Cafe Aroha"])
    body = {
        "action": "resume_step6",
        "selector": {"batch_id": created["batch_id"]},
        "client_token": "retry-1",
    }
    first = api.client.post("/operations", body)
    again = api.client.post("/operations", body)
    other = api.client.post("/operations", body | {"max_concurrency": 3})
    assert first.status == 202, first
    assert again.status == 200, again
    assert again.body["operation_id"] == first.body["operation_id"]
    assert other.status == 409, other
    assert other.body["error"] == "idempotency_conflict"
    assert _operations_started(api) == 1


def test_operations_page_newest_first_and_jobs_page_by_outcome(api: Api) -> None:
    # given a batch whose jobs wait at Step 5 (a resume rejects each: not resumable)
    created = api.client.create_batch([f"Deli {n:02d}" for n in range(55)])
    ids = []
    for _ in range(2):
        reply = api.client.post(
            "/operations", {"action": "resume_step6", "selector": {"batch_id": created["batch_id"]}}
        )
        assert reply.status == 202, reply
        ids.append(reply.body["operation_id"])
    done = wait_operation(api, ids[-1])
    assert done["status"] == "completed"
    assert done["counts"] | {} == {
        "matched": 55,
        "pending": 0,
        "running": 0,
        "succeeded": 0,
        "failed": 0,
        "rejected": 55,
        "cancelled": 0,
    }
    listed = api.client.get("/operations").body
    assert [o["operation_id"] for o in listed["operations"]] == ids[::-1]
    first = api.client.get(f"/operations/{ids[-1]}/jobs?outcome=rejected").body
    assert len(first["jobs"]) == 50 and first["next_cursor"]
    unexpected = [(j["code"], j["reason"]) for j in first["jobs"] if j["code"] != "not_resumable"]
    errors = [(i.payload.get("action"), i.error_type) for i in api.runtime.lambdas.invocations]
    assert unexpected == [], (unexpected[:3], [e for e in errors if e[1]][:10])
    rest = api.client.get(
        f"/operations/{ids[-1]}/jobs?outcome=rejected&cursor={first['next_cursor']}"
    ).body
    seen = {j["job_id"] for j in first["jobs"] + rest["jobs"]}
    assert seen == {j["job_id"] for j in created["jobs"]}
    assert api.client.get(f"/operations/{ids[-1]}/jobs?outcome=succeeded").body["jobs"] == []
    assert api.client.get(f"/operations/{ids[-1]}/jobs?cursor=bogus").status == 422
    # a cursor of another list (here: the first operation's) is refused, not followed
    wait_operation(api, ids[0])
    other = api.client.get(f"/operations/{ids[0]}/jobs?outcome=rejected").body["next_cursor"]
    assert other
    assert api.client.get(f"/operations/{ids[-1]}/jobs?cursor={other}").status == 422


def test_an_operation_whose_start_failed_starts_when_its_token_is_sent_again(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given Step Functions refuses the first start of an operation
    created = api.client.create_batch(["Cafe Aroha"])
    engine = wiring.operation_deps().engine
    real_start = engine.start_operation

    def refuse(name: str, payload: dict[str, Any]) -> str:
        raise OperationStartError("throttled")

    monkeypatch.setattr(engine, "start_operation", refuse)
    body = {
        "action": "resume_step6",
        "selector": {"batch_id": created["batch_id"]},
        "client_token": "start-again-1",
    }
    first = api.client.post("/operations", body)
    assert first.status == 503, first
    assert _operations_started(api) == 0
    # when the client sends the same request again, Step Functions answering this time
    monkeypatch.setattr(engine, "start_operation", real_start)
    again = api.client.post("/operations", body)
    # then the stored operation is the one answered, and its engine is started, once
    assert again.status == 200, again
    assert _operations_started(api) == 1
    done = wait_operation(api, again.body["operation_id"])
    assert done["status"] == "completed" and done["counts"]["matched"] == 1, done
    # (its counts written as it ended: reading it no longer counts its items)
    ops = OperationRepository.beside(wiring.api_deps().jobs)
    assert ops.get_any(done["operation_id"]).final_counts == done["counts"]
    # and a third request starts nothing more
    assert api.client.post("/operations", body).status == 200
    assert _operations_started(api) == 1


def test_forged_operation_cursors_are_a_422(api: Api) -> None:
    # given an operation of the caller's org
    created = api.client.create_batch(["Cafe Aroha"])
    body = {"action": "resume_step6", "selector": {"batch_id": created["batch_id"]}}
    op = api.client.post("/operations", body).body["operation_id"]
    wait_operation(api, op)
    # when its lists are read from start keys outside their ranges
    item_keys = [{"pk": f"OP#{op}", "sk": ""}, {"pk": f"OP#{op}", "sk": "OP"}]
    list_keys = [
        {"pk": f"OP#{op}", "sk": "OP", "lpk": f"ORG#{ORG}#OPERATIONS", "lsk": ""},
        {"pk": "JOB#x", "sk": "JOB", "lpk": f"ORG#{ORG}#OPERATIONS", "lsk": "z"},
    ]
    replies = [
        api.client.get(f"/operations/{op}/jobs?cursor={encode_cursor(k)}") for k in item_keys
    ]
    replies += [api.client.get(f"/operations?cursor={encode_cursor(k)}") for k in list_keys]
    # then each is a 422 naming the cursor, never a 5xx
    for reply in replies:
        assert reply.status == 422, reply
        assert reply.body["fields"][0]["field"] == "cursor", reply.body


def test_running_lists_the_jobs_the_running_count_counts(api: Api) -> None:
    # given an operation's item that recorded itself and is still claiming its job
    ops = OperationRepository.beside(wiring.api_deps().jobs)
    assert ops.record_item("op-listing", "job-starting", "token") is None
    # when its jobs are counted and listed by outcome=running
    counts = ops.outcome_counts("op-listing")
    listed, _ = ops.list_items("op-listing", "running", None, 10)
    # then the list has the job the count counts as running
    assert counts["running"] == 1
    assert [item.job_id for item in listed] == ["job-starting"]


def test_a_job_still_claimed_by_its_item_is_listed_by_its_restaurants_name(api: Api) -> None:
    # given an operation that has ended, and an item of it still claiming a job of the org
    # (recorded, its run not started: the run's start writes the name)
    _, op = _resume_of_a_new_batch(api)
    wait_operation(api, op)
    claimed = api.client.create_batch(["Kai Corner"])["jobs"][0]["job_id"]
    ops = OperationRepository.beside(wiring.api_deps().jobs)
    assert ops.record_item(op, claimed, "token") is None
    # when its jobs are listed as running
    listed = api.client.get(f"/operations/{op}/jobs?outcome=running").body["jobs"]
    # then the job is named by its restaurant, not left nameless
    assert [(j["job_id"], j["restaurant_name"]) for j in listed] == [(claimed, "Kai Corner")]


def test_a_password_the_key_cannot_encrypt_is_a_503_and_stores_nothing(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a job waiting at Step 5, and an API whose password key does not exist (deleted,
    # or a misconfigured stack): KMS refuses to encrypt with it
    created = api.client.create_batch(["Cafe Aroha"])
    job_id = created["jobs"][0]["job_id"]
    before = api.job_item(job_id)
    monkeypatch.setenv("PASSWORD_KEY_ID", f"arn:aws:kms:us-east-1:{FAKE_ACCOUNT}:key/{uuid4()}")
    wiring.reset()
    try:
        # when an operation submits Step 5 with a typed password
        reply = api.client.post(
            "/operations",
            {
                "action": "submit_step5",
                "selector": {"batch_id": created["batch_id"]},
                "execution_config": {"account": {"password": "S3cure-pass-123"}},
            },
        )
    finally:
        monkeypatch.undo()
        wiring.reset()
    # then it is a 503 that says so, and nothing was stored or started
    assert reply.status == 503, reply
    assert reply.body["error"] == "password_store_unavailable"
    assert api.client.get("/operations").body["operations"] == []
    assert _operation_objects() == []
    assert _operations_started(api) == 0
    assert api.job_item(job_id) == before


def test_an_operations_typed_password_is_forgotten_when_it_ends(api: Api) -> None:
    # given an operation that submits Step 5 for a batch with one typed password
    created = api.client.create_batch(["Cafe Aroha", "Kai Corner"])
    reply = api.client.post(
        "/operations",
        {
            "action": "submit_step5",
            "selector": {"batch_id": created["batch_id"]},
            "execution_config": {"account": {"password": "S3cure-pass-123"}},
        },
    )
    assert reply.status == 202, reply
    op_id = reply.body["operation_id"]
    # when it has ended
    done = wait_operation(api, op_id)
    assert done["counts"]["succeeded"] == 2, done
    # then the operation no longer holds its password
    ops = OperationRepository.beside(wiring.api_deps().jobs)
    assert ops.get_any(op_id).password_secret_ref is None
    # and each job's own, once spent (the account exists), as its run's settlement ends

    def spent() -> bool:
        accounts = [
            api.job_item(j["job_id"])["execution_config"]["account"] for j in created["jobs"]
        ]
        return all(a["password_secret_ref"] is None and a["password_deleted_at"] for a in accounts)

    poll(spent, 30, "both jobs' passwords forgotten")
