"""`make serve` holds a batch end to end within its memory bound, and stops cleanly.

The bounded version of `make bench`'s figure (300 jobs there, bench/serve_scale.py): the server
runs as `python -m local.server` (every function in processes of its own, the table on
DynamoDB Local) and is driven over HTTP as a user would. Memory is summed over the server and
every process it started.
"""

from __future__ import annotations

import pytest

from bench import serve_scale

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

JOBS = 20
MEMORY_BOUND_MB = 3 * 1024


def test_a_batch_on_the_served_runtime_completes_within_the_memory_bound() -> None:
    # given the server as `make serve` starts it; when a batch is created, Step 5 submitted for
    # every job, and the server left idle afterwards
    figures = serve_scale.measure(JOBS, idle_s=3)

    # then every job completed, and another org's reads all answered
    assert figures["completed"] == JOBS, figures
    assert figures["bystander_reads"] > 0 and figures["bystander_errors"] == 0, figures
    # the whole server stayed under the bound, and idle it came back near its start
    assert figures["peak_mb"] < MEMORY_BOUND_MB, figures
    assert figures["idle_mb"] < figures["start_mb"] * 1.5, figures
    # and SIGTERM stopped it, everything it started included, within 5 s
    assert figures["exit_code"] == 0 and figures["stop_s"] < 5, figures
