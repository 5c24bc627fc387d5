"""The peers section's smoke run: Step 6 on ours, DBOS and durable functions, 3 sub-steps x 3
fault modes each. Asserts the figures' shape, and the behaviour observed when it was built."""

from __future__ import annotations

from typing import Any

import pytest
from bench.peers.run import run_peers

KEYS = ("duplicates", "reexecutions", "wall_s", "critical_path_ratio", "operator_action", "cells")


@pytest.fixture(scope="module")
def peers() -> dict[str, Any]:
    return run_peers(smoke=True)


def _all(peers: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        "ours": peers["ours"],
        **{f"{p}/{v}": peers[p][v] for p in ("dbos", "durable") for v in ("default", "guided")},
    }


@pytest.mark.timeout(600)
def test_every_figure_is_there_with_its_type(peers: dict[str, Any]) -> None:
    for name, f in _all(peers).items():
        for key in KEYS:
            assert key in f, (name, key)
        assert isinstance(f["duplicates"], int) and f["duplicates"] >= 0
        assert isinstance(f["reexecutions"], int) and f["reexecutions"] >= 0
        assert isinstance(f["wall_s"], float) and f["wall_s"] > 0
        assert isinstance(f["critical_path_ratio"], float)
        assert isinstance(f["resumable_after_permanent_failure"], float | bool)
        assert isinstance(f["operator_action"], str) and f["operator_action"]
        assert len(f["cells"]) == 9
        for cell in f["cells"]:
            assert isinstance(cell["duplicates"], list) and isinstance(cell["reexecuted"], list)
            assert isinstance(cell["resumable"], bool) and isinstance(cell["completed"], bool)


@pytest.mark.timeout(600)
def test_observed_behaviour(peers: dict[str, Any]) -> None:
    ours = peers["ours"]
    # Ours: the resume plans from persisted progress and calls under the same keys.
    assert ours["duplicates"] == 0 and ours["reexecutions"] == 0
    assert all(c["completed"] for c in ours["cells"])

    def cell(f: dict[str, Any], sub_step: str, mode: str) -> dict[str, Any]:
        return next(c for c in f["cells"] if c["sub_step"] == sub_step and c["mode"] == mode)

    # restaurantRegistration creates an object without looking it up first: a crash after the
    # effect, replayed by the peer with a new key (default variant), takes it twice.
    for peer in ("dbos", "durable"):
        assert cell(peers[peer]["default"], "restaurantRegistration", "crash_after")[
            "duplicates"
        ] == ["restaurantRegistration"]
        # the peer's own idempotency advice (a stable key) makes the same crash harmless
        assert (
            cell(peers[peer]["guided"], "restaurantRegistration", "crash_after")["duplicates"] == []
        )
        # a crash is recovered by the peer itself, with no operator
        assert cell(peers[peer]["guided"], "websiteConfig", "crash_before")[
            "operator_action"
        ].startswith("none")
    # cloudwaitressAccount looks its account up first: no duplicate even by default.
    assert cell(peers["dbos"]["default"], "cloudwaitressAccount", "crash_after")["duplicates"] == []
    # durable functions: a failed execution is not resumable; the new one runs the steps that
    # had completed again (and, keyed by a new execution ARN, takes their effects again).
    failed = cell(peers["durable"]["guided"], "restaurantRegistration", "fail")
    assert failed["resumable"] is False and failed["completed"] is True
    assert "cloudwaitressAccount" not in failed["duplicates"]  # it looks its account up
    assert failed["reexecuted"] and failed["duplicates"]
    # DBOS: a fork from a non-blocking failed step re-runs every later step.
    forked = cell(peers["dbos"]["guided"], "websiteConfig", "fail")
    assert forked["resumable"] is True and forked["reexecuted"]


@pytest.mark.timeout(600)
def test_the_happy_path_makes_the_same_platform_calls_everywhere(peers: dict[str, Any]) -> None:
    # the same graph and sub-step logic: every implementation makes the same calls
    calls = {name: f["platform_calls"] for name, f in _all(peers).items()}
    assert len(set(calls.values())) == 1 and min(calls.values()) >= 12, calls
    # DBOS runs them one after another: its wall time is at least their sum; ours overlaps
    # a phase's calls, so it is well under that sum
    dbos = peers["dbos"]["default"]
    assert dbos["wall_s"] >= dbos["calls_one_after_another_s"]
    assert peers["ours"]["wall_s"] < 0.8 * peers["ours"]["calls_one_after_another_s"]
