"""The platform sandbox's handler: a function URL event in, the contract's answer out.

The deployed stand-in (PlatformMode=sandbox) is tested here through its handler, on an
in-process moto table made from template.yaml's PlatformSandboxTable: the sample in events/
takes effect once however often it is sent, the fault drills work over HTTP, a simulated crash
is a 502 that names it, and the adapter's SigV4 signature is what the function URL expects.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from moto import mock_aws

from clients.platform_auth import SigV4Signer
from clients.platform_sandbox import CRASH_HEADER, FAULTS_PATH
from handlers import wiring
from local.lambdas import FakeLambdaContext
from local.template import Template

SAMPLE = (
    Path(__file__).resolve().parents[2]
    / "events"
    / ("platform_sandbox-create-onboarding-user.json")
)
TABLE = "sandbox-table"


@pytest.fixture
def handler(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with mock_aws():
        for name, value in {
            "AWS_DEFAULT_REGION": "us-east-1",
            "TABLE_NAME": "-",
            "BUCKET_NAME": "-",
            "SANDBOX_TABLE_NAME": TABLE,
            "POWERTOOLS_TRACE_DISABLED": "true",
        }.items():
            monkeypatch.setenv(name, value)
        definition = Template.load().table_definitions()["PlatformSandboxTable"]
        boto3.client("dynamodb").create_table(TableName=TABLE, **definition)
        wiring.reset()
        from handlers.platform_sandbox import handler as sandbox_handler

        yield lambda event: sandbox_handler(event, FakeLambdaContext("PlatformSandboxFunction"))
        wiring.reset()


def sample() -> dict[str, Any]:
    event: dict[str, Any] = json.loads(SAMPLE.read_text(encoding="utf-8"))
    return event


def drill(method: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    event = sample()
    event["rawPath"] = event["requestContext"]["http"]["path"] = FAULTS_PATH
    event["requestContext"]["http"]["method"] = method
    event["body"] = json.dumps(body) if body is not None else ""
    return event


def test_the_sample_takes_effect_once_however_often_it_is_sent(handler: Any) -> None:
    # When the sample request arrives twice (a retry after a lost answer)
    first, again = handler(sample()), handler(sample())

    # Then both answers are the same object, taken into effect once
    assert first["statusCode"] == again["statusCode"] == 200
    assert json.loads(again["body"]) == json.loads(first["body"])
    made = json.loads(first["body"])
    assert made["id"].startswith("obu_") and made["attributes"]["name"] == "Cafe Aroha"
    [entry] = wiring.platform_sandbox().simulator.ledger()
    assert (entry.count, entry.calls) == (1, 2)


def test_a_base64_body_is_read_as_the_function_url_sends_it(handler: Any) -> None:
    event = sample()
    event["body"] = base64.b64encode(event["body"].encode()).decode()
    event["isBase64Encoded"] = True
    assert handler(event)["statusCode"] == 200


def test_fault_drills_over_http_then_a_crash_is_a_502_that_names_it(handler: Any) -> None:
    # Given a crash_after drill for the sample's sub-step
    fault = {"sub_step": "createOnboardingUser", "mode": "crash_after", "times": 1}
    added = handler(drill("POST", fault))
    assert added["statusCode"] == 201
    assert json.loads(handler(drill("GET"))["body"])["faults"][0]["mode"] == "crash_after"

    # When the request is sent, then again (the caller's retry)
    crashed, retried = handler(sample()), handler(sample())

    # Then the first answer is a bad gateway naming the crash, after the effect was taken;
    # the retry gets the stored answer, and the drill is used up
    assert crashed["statusCode"] == 502 and crashed["headers"][CRASH_HEADER] == "crash_after"
    assert retried["statusCode"] == 200
    assert [e.count for e in wiring.platform_sandbox().simulator.ledger()] == [1]
    assert json.loads(handler(drill("GET"))["body"]) == {"faults": []}


def test_a_bad_drill_is_refused_and_changes_nothing(handler: Any) -> None:
    refused = handler(drill("POST", {"sub_step": "x", "mode": "explode"}))
    assert refused["statusCode"] == 422
    assert "mode" in json.dumps(json.loads(refused["body"])["fields"])
    assert handler(drill("PUT"))["statusCode"] == 405
    assert json.loads(handler(drill("GET"))["body"]) == {"faults": []}


def test_an_off_contract_request_is_a_4xx_with_no_effect(handler: Any) -> None:
    event = sample()
    body = json.loads(event["body"])
    del body["email"]
    event["body"] = json.dumps(body)
    refused = handler(event)
    assert refused["statusCode"] == 400
    assert wiring.platform_sandbox().simulator.ledger() == []


def test_the_adapter_signs_for_the_function_url_as_sigv4_expects(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the credentials a function has
    for name, value in {
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_SESSION_TOKEN": "token",
    }.items():
        monkeypatch.setenv(name, value)
    # botocore reads the older name first: one left by an earlier test (moto's) would win
    monkeypatch.delenv("AWS_SECURITY_TOKEN", raising=False)
    url = "https://abc.lambda-url.us-east-1.on.aws/v1/create_onboarding_user"
    headers = {"Content-Type": "application/json", "Idempotency-Key": "job-1:x"}
    body = b'{"a": 1}'

    # When the sandbox's authenticator signs a request
    signed = SigV4Signer("us-east-1").headers("POST", url, headers, body)

    # Then it is a lambda-scoped SigV4 signature over the body and headers, the one botocore
    # computes for the same request at the same instant (what AWS verifies)
    scope = signed["Authorization"].split("Credential=")[1].split(",")[0]
    assert scope.endswith("/us-east-1/lambda/aws4_request") and scope.startswith("AKIDEXAMPLE/")
    assert signed["X-Amz-Security-Token"] == "token"
    request = AWSRequest(method="POST", url=url, data=body, headers=copy.copy(headers))
    request.context["timestamp"] = signed["X-Amz-Date"]
    signer = SigV4Auth(Credentials("AKIDEXAMPLE", "secret", "token"), "lambda", "us-east-1")
    request.headers["X-Amz-Date"] = signed["X-Amz-Date"]
    request.headers["X-Amz-Security-Token"] = "token"
    expected = signer.signature(
        signer.string_to_sign(request, signer.canonical_request(request)), request
    )
    assert signed["Authorization"].endswith(f"Signature={expected}")
