"""The OpenAPI document: generated from the routes, checked in, current, and true of the
running API (Schemathesis fuzzes the local server from it)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from clients.simulator import shared_simulator
from handlers.api import openapi_document
from local.openapi import OPENAPI_PATH
from local.server import LocalServer
from local.template import Template

pytestmark = pytest.mark.integration

FUZZ_ORG = "org-fuzz"
FUZZ_EXAMPLES = 12
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_the_checked_in_document_is_current() -> None:
    assert OPENAPI_PATH.read_text(encoding="utf-8") == openapi_document() + "\n", (
        "docs/openapi.json is stale: run `make openapi` and commit it"
    )


def test_the_document_has_exactly_the_template_routes() -> None:
    document = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
    documented = {
        (method.upper(), path) for path, item in document["paths"].items() for method in item
    }
    api = Template.load().body["Resources"]["ApiFunction"]["Properties"]["Events"]
    deployed = {(e["Properties"]["Method"], e["Properties"]["Path"]) for e in api.values()}
    assert documented == deployed
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert {"401", "422"} <= set(operation["responses"]), (method, path)
            if "{" in path:
                assert "404" in operation["responses"], (method, path)


@pytest.fixture(scope="module")
def fuzzed_server() -> Iterator[LocalServer]:
    shared_simulator().reset()
    server = LocalServer(port=0, quiet=True).start()
    try:
        yield server
    finally:
        server.stop()
        shared_simulator().reset()


schema = schemathesis.openapi.from_path(
    str(OPENAPI_PATH),
    config=schemathesis.Config.from_dict(
        {
            "request-timeout": 60,
            # The coverage phase sends the largest batch the schema allows (500 restaurants):
            # right, but a minute of moto. The size limits are tested in test_routes.
            "operations": [
                {
                    "include-path": "/registration-batches",
                    "include-method": "POST",
                    "phases": {"coverage": {"enabled": False}},
                }
            ],
        }
    ),
)


@schema.parametrize()
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_the_local_api_answers_as_documented(
    case: schemathesis.Case, fuzzed_server: LocalServer
) -> None:
    # no 5xx, and every answer's status, content type and body are the documented ones
    case.call_and_validate(
        base_url=fuzzed_server.url,
        headers={"Authorization": f"Bearer local:{FUZZ_ORG}"},
        checks=CHECKS,
    )
