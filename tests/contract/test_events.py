"""events/*.json (for `sam local invoke`) match the shapes the handlers are given."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tools.cfn_template import REPO_ROOT

from tests.contract.conftest import EXPECTED_ROUTES

EVENTS = REPO_ROOT / "events"
PHASES = ("phase1", "phase2", "phase3", "phase4")


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    return data


def test_every_event_file_is_json() -> None:
    files = sorted(EVENTS.glob("*.json"))
    assert files
    for path in files:
        json.loads(path.read_text(encoding="utf-8"))


def test_prepare_run_event() -> None:
    event = _load("prepare_run.json")
    assert set(event) == {"input", "execution_arn", "execution_name"}
    assert event["input"]["job_id"]
    assert event["input"]["resume_from"] in PHASES
    assert event["execution_arn"].startswith("arn:aws:states:")
    assert event["execution_arn"].endswith(":" + event["execution_name"])


@pytest.mark.parametrize("phase", PHASES)
def test_phase_events(phase: str) -> None:
    event = _load(f"{phase}.json")
    assert set(event) == {"job_id", "phase", "execution_arn"}
    assert event["phase"] == phase
    assert event["execution_arn"].startswith("arn:aws:states:")


def test_complete_run_event() -> None:
    assert set(_load("complete_run.json")) == {"job_id", "execution_arn"}


def test_reconcile_event() -> None:
    event = _load("reconcile.json")
    assert event["source"] == "aws.states"
    assert event["detail-type"] == "Step Functions Execution Status Change"
    assert event["detail"]["status"] == "FAILED"
    assert json.loads(event["detail"]["input"])["job_id"]


def test_api_events_hit_template_routes_with_an_org_claim() -> None:
    files = sorted(EVENTS.glob("api-*.json"))
    seen = set()
    for path in files:
        event = _load(path.name)
        route = (event["httpMethod"], event["resource"])
        assert route in EXPECTED_ROUTES, f"{path.name}: {route} is not an API route"
        seen.add(route)
        assert event["requestContext"]["authorizer"]["claims"]["custom:org_id"]
        if event["body"] is not None:
            json.loads(event["body"])
    assert {
        ("GET", "/registration-batches/jobs/{jobId}"),
        ("POST", "/registration-batches/jobs/{jobId}/resume-step-6"),
        ("POST", "/registration-batches"),
    } <= seen


def test_each_function_has_a_sample_event(template: dict[str, Any]) -> None:
    names = {p.name for p in Path(EVENTS).glob("*.json")}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        _, module, function = resource["Properties"]["Handler"].split(".")
        # events/<module>.json for a module's `handler`; events/<function>.json for a module
        # with one handler per function (handlers.phase.phase1 -> events/phase1.json)
        sample = module if function == "handler" else function
        expected = "api-*.json" if module == "api" else f"{sample}.json"
        if module == "api":
            assert any(n.startswith("api-") for n in names), logical_id
        else:
            assert expected in names, f"{logical_id}: no events/{expected}"
