"""A whole job through the platform sandbox's code, as a freshly deployed stack runs it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from domain.catalogue import SUB_STEPS
from local.runtime import SANDBOX_ID, LocalRuntime
from state.models import StepStatus
from tests.integration.conftest import Harness

pytestmark = pytest.mark.integration


def test_a_job_runs_end_to_end_through_the_sandbox(harness: Harness) -> None:
    # When a job runs with the phases reaching the platform through the sandbox
    before = len(harness.runtime.lambdas.invocations)
    job, _ = harness.run_job("Sandbox Cafe")

    # Then it completes, every sub-step's effect is in the sandbox's ledger exactly once
    assert job.status == StepStatus.COMPLETED
    effects = harness.simulator.effects_for(job.job_id)
    assert sorted(e.sub_step for e in effects) == sorted(SUB_STEPS)
    assert {e.count for e in effects} == {1}
    # and every call was answered by the sandbox function in its own processes, signed
    calls = [
        i
        for i in harness.runtime.lambdas.invocations[before:]
        if i.function == SANDBOX_ID and i.payload["headers"].get("x-job-id") == job.job_id
    ]
    assert len(calls) >= len(SUB_STEPS)
    assert all(i.error_type is None for i in calls)
    assert all(i.payload["headers"]["authorization"].startswith("AWS4-HMAC-SHA256 ") for i in calls)


def test_an_unsigned_request_is_refused_as_the_iam_function_url_refuses_it(
    runtime: LocalRuntime, harness: Harness
) -> None:
    # Given a request with a bearer key instead of a SigV4 signature
    body = json.dumps(
        {
            "email": "x@y.example",
            "name": "Unsigned",
            "context": {"job_id": "j", "sub_step": "createOnboardingUser", "restaurant_name": "U"},
        }
    ).encode()
    request = urllib.request.Request(
        f"{runtime.platform_url}/v1/create_onboarding_user",
        data=body,
        method="POST",
        headers={
            "Authorization": "Bearer guessed",
            "Content-Type": "application/json",
            "Idempotency-Key": "j:createOnboardingUser",
            "X-Job-Id": "j",
            "X-Sub-Step": "createOnboardingUser",
        },
    )

    # When it reaches the front door, then it is refused before the function, with no effect
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 403
    assert harness.simulator.effects_for("j") == []
