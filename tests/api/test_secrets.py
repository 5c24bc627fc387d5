"""The account password is never in clear outside the API's request: not in API responses, log
lines, state machine input or output, DynamoDB items (the job holds it encrypted under the
stack's key), S3 objects or events, during a whole run; and it is forgotten once spent."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from domain.observability import logger
from local.runtime import TABLE_ID
from local.samples import config_data
from local.server import API_FUNCTION, LocalServer
from local.workers import ProcessLambdas
from tests.api.conftest import HttpClient, Reply, job_password_refs, read_password

pytestmark = pytest.mark.integration

PASSWORD = "Unmistakable-Pa55word-4417"


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Every log record: the service's logger at DEBUG, everything else at INFO."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    root = logging.getLogger()
    previous = (logger.log_level, root.level)
    logger._logger.addHandler(handler)  # the stdlib logger behind Powertools' Logger
    root.addHandler(handler)
    logger.setLevel("DEBUG")
    root.setLevel(logging.INFO)
    yield stream
    logger.setLevel(previous[0])
    root.setLevel(previous[1])
    logger._logger.removeHandler(handler)
    root.removeHandler(handler)


def test_the_password_never_appears_in_clear_and_is_forgotten_once_spent(
    served: tuple[LocalServer, HttpClient],
    log_lines: io.StringIO,
    capfd: pytest.CaptureFixture[str],
) -> None:
    server, client = served
    server.quiet = False  # the server's access log is searched too
    assert server.runtime is not None
    functions = server.runtime.lambdas
    assert isinstance(functions, ProcessLambdas)
    # every function logs at DEBUG, each in its own processes (their output is kept)
    functions.env["POWERTOOLS_LOG_LEVEL"] = "DEBUG"
    replies: list[Reply] = []

    def call(method: str, path: str, body: Any = None) -> Reply:
        reply = client.call(method, path, body)
        replies.append(reply)
        return reply

    # a whole run over HTTP: create, fail before the account exists, resume, fail after it
    # exists, resume, complete
    created = call(
        "POST",
        "/registration-batches",
        {"name": "Secrets", "restaurants": [_restaurant("Cafe Aroha")]},
    ).body
    job_id, batch_id = created["jobs"][0]["job_id"], created["batch_id"]
    for sub_step in ("cloudwaitressAccount", "restaurantRegistration"):
        client.call("POST", "/__sim/faults", {"sub_step": sub_step, "mode": "fail"})
    config = config_data("Cafe Aroha")
    config["account"]["password"] = PASSWORD
    step5 = call(
        "POST",
        f"/registration-batches/{batch_id}/step-5",
        {"jobs": [{"job_id": job_id, "execution_config": config}]},
    )
    assert step5.status == 202 and step5.body["accepted"], step5
    failed = client.wait_settled(job_id)
    assert failed["last_failure"]["sub_step"] == "cloudwaitressAccount"
    # the password is stored, encrypted, while the account is yet to be created
    refs = job_password_refs()
    assert list(refs) == [job_id]
    stored_before_use = read_password(refs[job_id])
    for path in _reads(batch_id, job_id):
        call("GET", path)
    resumed = call("POST", f"/registration-batches/jobs/{job_id}/resume-step-6")
    assert resumed.status == 202, resumed
    failed = client.wait_settled(job_id)
    assert failed["last_failure"]["sub_step"] == "restaurantRegistration"
    for path in _reads(batch_id, job_id):
        call("GET", path)
    resumed = call("POST", f"/registration-batches/jobs/{job_id}/resume-step-6")
    assert resumed.status == 202, resumed
    assert client.wait_settled(job_id)["status"] == "completed"
    for path in _reads(batch_id, job_id):
        call("GET", path)
    assert server.runtime is not None
    server.runtime.wait_all()

    # the password was kept (encrypted) only until the account existed (this proves the search
    # looks for what was stored): the account was created with it, then its ciphertext was
    # forgotten, and the job says when
    assert stored_before_use == PASSWORD
    accounts = [e for e in server_ledger(client) if e["sub_step"] == "cloudwaitressAccount"]
    assert accounts and accounts[0]["count"] == 1
    assert job_password_refs() == {}
    table = boto3.resource("dynamodb").Table(TABLE_ID)
    job_item = table.get_item(Key={"pk": f"JOB#{job_id}", "sk": "JOB"})["Item"]
    assert job_item["execution_config"]["account"]["password_deleted_at"]

    # API responses
    assert replies and PASSWORD not in json.dumps([[r.body, r.headers] for r in replies])
    assert all(r.body["execution_config"]["account"]["password_set"] for r in _job_reads(replies))
    # log lines (the service's at DEBUG, all others at INFO; stdout and stderr too)
    out, err = capfd.readouterr()
    logs = log_lines.getvalue() + "\n".join(line.text for line in list(functions.logs))
    assert "sub-step completed" in logs and "GET /registration-batches" in err
    assert PASSWORD not in logs and PASSWORD not in out and PASSWORD not in err
    # state machine input and output, every event of every execution's history
    sfn = boto3.client("stepfunctions")
    executions = sfn.list_executions(stateMachineArn=server.runtime.state_machine_arn)
    assert len(executions["executions"]) == 3
    for execution in executions["executions"]:
        arn = execution["executionArn"]
        described = sfn.describe_execution(executionArn=arn)
        history = server.runtime.history(arn)
        assert len(history) > 10
        assert PASSWORD not in json.dumps([described, history], default=str)
    # Lambda payloads and results, and the status-change events delivered to the reconciler
    # (but the API function's own requests: the Step 5 body carries the password, as on AWS)
    invocations = [i for i in server.runtime.lambdas.invocations if i.function != API_FUNCTION]
    assert {i.function for i in invocations} >= {"Phase1Function"}, invocations
    assert PASSWORD not in json.dumps([i.payload for i in invocations], default=str)
    assert PASSWORD not in json.dumps([d.event for d in server.runtime.delivered], default=str)
    # every DynamoDB item (jobs, batches, audit events)
    items = boto3.resource("dynamodb").Table(TABLE_ID).scan()["Items"]
    assert any(i.get("execution_config") for i in items)
    assert PASSWORD not in json.dumps(items, default=str)
    # every S3 object (generated code files)
    s3 = boto3.client("s3")
    for bucket in s3.list_buckets()["Buckets"]:
        for obj in s3.list_objects_v2(Bucket=bucket["Name"]).get("Contents", []):
            body = s3.get_object(Bucket=bucket["Name"], Key=obj["Key"])["Body"].read()
            assert PASSWORD.encode() not in body, obj["Key"]


def _restaurant(name: str) -> dict[str, Any]:
    from local.samples import restaurant_data

    return restaurant_data(name)


def _reads(batch_id: str, job_id: str) -> list[str]:
    return [
        "/registration-batches",
        f"/registration-batches/{batch_id}",
        f"/registration-batches/jobs/{job_id}",
        f"/registration-batches/jobs/{job_id}/events",
    ]


def _job_reads(replies: list[Reply]) -> list[Reply]:
    return [r for r in replies if isinstance(r.body, dict) and "execution_config" in r.body]


def server_ledger(client: HttpClient) -> list[dict[str, Any]]:
    effects: list[dict[str, Any]] = client.get("/__sim/ledger", org=None).body["effects"]
    return effects
