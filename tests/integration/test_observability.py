"""Every log line the phase runner writes names its job, batch, phase and sub-step."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from domain.catalogue import SUB_STEP_NAMES
from domain.observability import logger
from state.models import PHASE_NAMES
from tests.integration.conftest import Harness

pytestmark = pytest.mark.integration


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger._logger.addHandler(handler)  # the stdlib logger behind Powertools' Logger
    previous = logger.log_level
    logger.setLevel("INFO")
    yield stream
    logger.setLevel(previous)
    logger._logger.removeHandler(handler)


def test_runner_log_lines_carry_job_batch_phase_and_sub_step(
    harness: Harness, log_lines: io.StringIO
) -> None:
    # given two jobs running at once, one meeting a transient error and one a failure
    harness.fault("menuImport", "transient", restaurant="Cafe Aroha")
    harness.fault("paymentConfig", "fail", restaurant="Kai Kitchen")
    jobs = harness.create_batch(["Cafe Aroha", "Kai Kitchen"])
    arns = [harness.submit(job) for job in jobs]
    for arn in arns:
        harness.runtime.wait_for(arn)
    # then every runner line names the job, batch, phase and sub-step it is about
    records = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    runner = [r for r in records if r["location"].startswith(("_attempts", "_failed", "_skip"))]
    assert {r["message"] for r in runner} >= {
        "sub-step started",
        "sub-step completed",
        "sub-step failed",
        "transient platform error, retrying",
    }
    by_job = {job.job_id: job for job in jobs}
    for record in runner:
        assert record["job_id"] in by_job
        assert record["batch_id"] == by_job[record["job_id"]].batch_id
        assert record["phase"] in PHASE_NAMES
        assert record["sub_step"] in SUB_STEP_NAMES
        if "error" in record and "key " in record["error"]:
            # the error's idempotency key is the job's own: keys never leak across threads
            assert f"{record['job_id']}:{record['sub_step']}" in record["error"]
