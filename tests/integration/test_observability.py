"""Every log line the phase runner writes names its job, batch, phase and sub-step."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from domain.catalogue import SUB_STEP_NAMES
from local.workers import ProcessLambdas
from state.models import PHASE_NAMES
from tests.integration.conftest import Harness

pytestmark = pytest.mark.integration


@pytest.fixture
def info_logs(harness: Harness) -> Iterator[ProcessLambdas]:
    """The phases log at INFO, each in its own processes: their output is their log stream."""
    lambdas = harness.runtime.lambdas
    assert isinstance(lambdas, ProcessLambdas)
    phases = [f"Phase{n}Function" for n in range(1, 5)]
    undo = [lambdas.override(f, env={"POWERTOOLS_LOG_LEVEL": "INFO"}) for f in phases]
    lambdas.logs.clear()  # earlier tests' lines are not this test's
    yield lambdas
    for step in undo:
        step()


def test_runner_log_lines_carry_job_batch_phase_and_sub_step(
    harness: Harness, info_logs: ProcessLambdas
) -> None:
    # given two jobs running at once, one meeting a transient error and one a failure
    harness.fault("menuImport", "transient", restaurant="Cafe Aroha")
    harness.fault("paymentConfig", "fail", restaurant="Kai Kitchen")
    jobs = harness.create_batch(["Cafe Aroha", "Kai Kitchen"])
    arns = [harness.submit(job) for job in jobs]
    for arn in arns:
        harness.runtime.wait_for(arn)
    # then every runner line names the job, batch, phase and sub-step it is about
    lambdas = info_logs
    expected = {
        "sub-step started",
        "sub-step completed",
        "sub-step failed",
        "transient platform error, retrying",
    }
    # the workers' output reaches the runtime through pipes: poll with a deadline
    deadline = time.monotonic() + 10
    while True:
        phases = [line.text for line in list(lambdas.logs) if line.function.startswith("Phase")]
        records = [json.loads(text) for text in phases if text.startswith("{")]
        runner = [r for r in records if r["location"].startswith(("_attempts", "_failed", "_skip"))]
        if {r["message"] for r in runner} >= expected or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert {r["message"] for r in runner} >= expected
    by_job = {job.job_id: job for job in jobs}
    for record in runner:
        assert record["job_id"] in by_job
        assert record["batch_id"] == by_job[record["job_id"]].batch_id
        assert record["phase"] in PHASE_NAMES
        assert record["sub_step"] in SUB_STEP_NAMES
        if "error" in record and "key " in record["error"]:
            # the error's idempotency key is the job's own: keys never leak across threads
            assert f"{record['job_id']}:{record['sub_step']}" in record["error"]
