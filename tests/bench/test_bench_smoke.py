"""The benchmark's smoke run: tiny sizes, so that `make bench` cannot rot unnoticed.

It asserts that the figures are produced, with every key and sane types, never how fast
anything is (the machines are shared and noisy: the benchmark reports figures, not verdicts).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

NUMBERS = (
    "ddb_writes_per_job",
    "state_transitions_per_job",
    "lambda_invocations_per_job",
    "cost_per_1000_jobs_usd",
    "password_storage_per_1000_jobs_usd_month",
    "critical_path_ratio",
    "sequential_ratio",
    "batch_api_500_s",
)
COUNTS = ("resume_reexecuted_max", "seed_phase_level_reexecuted_max", "restart_reexecuted_max")


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("bench")
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--smoke", "--out", str(out)],
        cwd=ROOT,
        env=os.environ | {"PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert (out / "latest.md").read_text().startswith("# Benchmark results")
    loaded: dict[str, Any] = json.loads((out / "latest.json").read_text())
    return loaded


@pytest.mark.timeout(900)
def test_the_headline_figures_are_numbers(results: dict[str, Any]) -> None:
    for key in NUMBERS:
        assert _number(results[key]), key
    for key in COUNTS:
        assert isinstance(results[key], int) and results[key] >= 0, key
    assert results["ddb_writes_per_job"] > 0
    assert results["state_transitions_per_job"] > 0
    assert results["cost_per_1000_jobs_usd"] > 0


@pytest.mark.timeout(900)
def test_scale_has_each_batch_size(results: dict[str, Any]) -> None:
    assert results["scale"]
    for entry in results["scale"].values():
        for key in ("jobs", "wall_s", "peak_rss_mb", "per_job_s"):
            assert _number(entry[key]), key
    assert results["scale_ratios"]


@pytest.mark.timeout(900)
def test_import_times_cover_every_handler_and_the_bare_baseline(results: dict[str, Any]) -> None:
    imports = results["handler_import_ms"]
    assert "bare_powertools" in imports
    assert {"PrepareRunFunction", "Phase1Function", "ApiFunction"} <= set(imports)
    assert all(_number(v) and v > 0 for v in imports.values())
    ratios = results["handler_import_ratio"]
    assert set(ratios) == set(imports) - {"bare_powertools"}
    assert all(_number(v) and v > 0 for v in ratios.values())
    assert _number(results["handler_import_ratio_max"])
    assert results["handler_import_ratio_max"] == max(ratios.values())


@pytest.mark.timeout(900)
def test_prices_and_targets_are_reported(results: dict[str, Any]) -> None:
    assert results["prices"]["date"] == results["price_table_date"]
    assert set(results["cost_breakdown_per_1000_jobs_usd"]) >= {
        "dynamodb_writes_table",
        "stepfunctions_transitions",
        "lambda_requests",
        "s3_requests",
    }
    assert all(isinstance(t["target"], str) and "met" in t for t in results["targets"])


@pytest.mark.timeout(900)
def test_passwords_are_encrypted_and_forgotten_after_the_run(results: dict[str, Any]) -> None:
    # the smoke run's jobs completed: each password was encrypted once, decrypted by the
    # account sub-step, and forgotten as the run settled
    passwords = results["passwords_per_job"]
    assert passwords["encrypts"] == 1
    assert passwords["decrypts"] >= 1
    assert passwords["held_after_run"] == 0
    assert results["password_storage_per_1000_jobs_usd_month"] == 0
    assert results["password_key_usd_month"] > 0
    # no Secrets Manager secret per job any more: what it cost is the comparison
    assert results["secret_per_job_storage_per_1000_jobs_usd_month"] > 0.5
    assert results["cost_breakdown_per_1000_jobs_usd"]["kms_requests"] > 0
    (target,) = [t for t in results["targets"] if "passwords' storage" in t["target"]]
    assert target["met"] is True


@pytest.mark.timeout(900)
def test_the_served_batch_is_measured_from_outside(results: dict[str, Any]) -> None:
    serve = results["serve"]
    assert serve["completed"] == serve["jobs"] > 0
    for key in ("step5_call_s", "all_completed_s", "start_mb", "peak_mb", "idle_mb", "stop_s"):
        assert _number(serve[key]) and serve[key] > 0, key
    assert serve["peak_mb"] >= serve["start_mb"]
    assert serve["exit_code"] == 0


@pytest.mark.timeout(900)
def test_the_operations_figures_are_there(results: dict[str, Any]) -> None:
    # the smoke plan: 4 jobs at max_concurrency 2, the accept over 50 ids
    ran = results["operations"]["throughput"]
    assert ran["counts"]["succeeded"] == ran["jobs"] == 4 and ran["status"] == "completed"
    assert 1 <= results["operation_max_overlap"] <= 2
    assert results["operation_jobs_per_minute"] > 0
    assert _number(results["operation_accept_s_50"])
    assert results["operations"]["accept"]["matched"] == 50
    assert _number(results["ddb_wru_per_job"]) and _number(results["writes_per_state_change"])
    assert results["batch_call_cap"] == 100
    assert _number(results["batch_call_measured_s"]) and results["batch_call_measured_s"] > 0
    assert _number(results["batch_call_estimated_on_aws_s"])
    names = {t["target"] for t in results["targets"]}
    assert any(name.startswith("POST /operations over 50 job ids") for name in names), names
