"""The phase runner: concurrency, checkpoints, retries, and what a failure does to dependents."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import pytest

from clients.platform import PermanentPlatformError, TransientPlatformError
from clients.simulator import SimulatedCrash
from domain.planner import plan_phase
from domain.runner import PhaseRunner, RetryPolicy
from state.models import (
    MAX_ERROR_CHARS,
    MAX_OUTPUT_BYTES,
    TRUNCATION_MARK,
    ErrorCode,
    SkipReason,
    SubStepProgress,
    SubStepStatus,
)
from tests.factories import make_config, make_progress


class Recorder:
    def __init__(self, behaviour: dict[str, list[Exception | None]] | None = None) -> None:
        self.behaviour = behaviour or {}
        self.checkpoints: list[tuple[str, SubStepProgress]] = []
        self.calls: list[str] = []
        self.lock = threading.Lock()

    def checkpoint(self, name: str, progress: SubStepProgress) -> None:
        with self.lock:
            self.checkpoints.append((name, progress))

    def execute(self, name: str, so_far: Mapping[str, SubStepProgress]) -> dict[str, Any]:
        with self.lock:
            self.calls.append(name)
            script = self.behaviour.get(name, [])
            outcome = script.pop(0) if script else None
        if outcome is not None:
            raise outcome
        return {"id": f"{name}-id", "saw": sorted(so_far)}


def run(
    recorder: Recorder,
    phase: str = "phase2",
    statuses: dict[str, SubStepStatus] | None = None,
    attempts: int = 3,
) -> dict[str, SubStepProgress]:
    progress = make_progress(
        statuses
        or {
            "cloudwaitressAccount": SubStepStatus.COMPLETED,
            "codeGeneration": SubStepStatus.COMPLETED,
            "createOnboardingUser": SubStepStatus.COMPLETED,
            "uploadImages": SubStepStatus.COMPLETED,
        }
    )
    plan = plan_phase(phase, make_config(), progress)  # type: ignore[arg-type]
    runner = PhaseRunner(
        checkpoint=recorder.checkpoint,
        execute=recorder.execute,
        retry=RetryPolicy(max_attempts=attempts, base_delay_s=0),
        sleep=lambda _: None,
    )
    return runner.run(plan, dict(progress.phases[phase].sub_steps))  # type: ignore[index]


def test_every_sub_step_completes_with_a_checkpoint_before_and_after() -> None:
    recorder = Recorder()
    results = run(recorder)
    assert {n: r.status for n, r in results.items()} == dict.fromkeys(
        [
            "restaurantRegistration",
            "websiteConfig",
            "servicesConfig",
            "paymentConfig",
            "menuImport",
            "syncOnboardingUser",
        ],
        SubStepStatus.COMPLETED,
    )
    for name in results:
        states = [p.status for n, p in recorder.checkpoints if n == name]
        assert states == [SubStepStatus.IN_PROGRESS, SubStepStatus.COMPLETED]


def test_dependents_start_after_their_dependency_and_see_its_result() -> None:
    recorder = Recorder()
    results = run(recorder)
    assert recorder.calls.index("restaurantRegistration") < recorder.calls.index("menuImport")
    assert "restaurantRegistration" in results["menuImport"].output["saw"]  # type: ignore[index]


def test_transient_errors_are_retried_and_each_attempt_counted() -> None:
    recorder = Recorder({"servicesConfig": [TransientPlatformError("503"), None]})
    results = run(recorder)
    assert results["servicesConfig"].status == SubStepStatus.COMPLETED
    assert results["servicesConfig"].attempts == 2


def test_transient_errors_fail_after_max_attempts() -> None:
    recorder = Recorder({"paymentConfig": [TransientPlatformError("503")] * 5})
    results = run(recorder, attempts=3)
    assert results["paymentConfig"].status == SubStepStatus.FAILED
    assert results["paymentConfig"].attempts == 3
    assert recorder.calls.count("paymentConfig") == 3


def test_permanent_error_fails_at_once_and_skips_dependents() -> None:
    recorder = Recorder({"restaurantRegistration": [PermanentPlatformError("400 bad")]})
    results = run(recorder)
    assert results["restaurantRegistration"].status == SubStepStatus.FAILED
    assert results["restaurantRegistration"].attempts == 1
    assert "400 bad" in (results["restaurantRegistration"].error or "")
    for name in ("websiteConfig", "servicesConfig", "paymentConfig", "menuImport"):
        assert results[name].status == SubStepStatus.SKIPPED
        assert results[name].skip_reason == SkipReason.DEPENDENCY_NOT_MET
        assert name not in recorder.calls
    # an independent sub-step still runs
    assert results["syncOnboardingUser"].status == SubStepStatus.COMPLETED


def test_a_crash_propagates_and_leaves_the_sub_step_in_progress() -> None:
    recorder = Recorder(
        {
            "restaurantRegistration": [
                SimulatedCrash(
                    "killed",
                    sub_step="restaurantRegistration",
                    mode="crash_before",
                    idempotency_key="j:restaurantRegistration",
                )
            ]
        }
    )
    with pytest.raises(SimulatedCrash):
        run(recorder)
    last = [p for n, p in recorder.checkpoints if n == "restaurantRegistration"][-1]
    assert last.status == SubStepStatus.IN_PROGRESS


def test_attempts_accumulate_across_runs() -> None:
    recorder = Recorder()
    progress = make_progress({"cloudwaitressAccount": SubStepStatus.FAILED})
    plan = plan_phase("phase1", make_config(), progress)
    runner = PhaseRunner(
        checkpoint=recorder.checkpoint,
        execute=recorder.execute,
        retry=RetryPolicy(base_delay_s=0),
        sleep=lambda _: None,
    )
    results = runner.run(plan, dict(progress.phases["phase1"].sub_steps))
    assert results["cloudwaitressAccount"].attempts == 2


# ---------------------------------------------------------------- size limits


def test_a_long_error_is_stored_truncated_to_its_limit() -> None:
    # given a sub-step whose error message is far longer than an item should hold
    recorder = Recorder({"servicesConfig": [PermanentPlatformError("x" * 50_000)]})
    results = run(recorder)
    # then the failure is recorded, cut to MAX_ERROR_CHARS and marked as cut
    error = results["servicesConfig"].error or ""
    assert results["servicesConfig"].status == SubStepStatus.FAILED
    assert len(error) == MAX_ERROR_CHARS and error.endswith(TRUNCATION_MARK)
    assert error.startswith("The platform refused it: xxx")
    assert results["servicesConfig"].error_code == ErrorCode.PLATFORM_REJECTED
    checkpointed = [p for n, p in recorder.checkpoints if n == "servicesConfig"][-1]
    assert checkpointed.error == error


def test_an_output_over_its_limit_fails_the_sub_step_with_a_clear_error() -> None:
    # given a sub-step whose output is larger than MAX_OUTPUT_BYTES
    class TooBig(Recorder):
        def execute(self, name: str, so_far: Mapping[str, SubStepProgress]) -> dict[str, Any]:
            if name == "paymentConfig":
                return {"blob": "x" * MAX_OUTPUT_BYTES}
            return super().execute(name, so_far)

    recorder = TooBig()
    results = run(recorder)
    # then the sub-step fails (it is not retried: the output will not shrink), naming the limit
    failed = results["paymentConfig"]
    assert failed.status == SubStepStatus.FAILED and failed.attempts == 1
    assert failed.error is not None and failed.error.startswith("paymentConfig output is")
    assert failed.error_code == ErrorCode.OUTPUT_TOO_LARGE and failed.retryable is False
    assert f"the limit is {MAX_OUTPUT_BYTES}" in failed.error
    assert "object store" in failed.error
    # and the oversized output was never checkpointed
    assert all(p.output is None for n, p in recorder.checkpoints if n == "paymentConfig")
    # the other sub-steps are unaffected
    assert results["servicesConfig"].status == SubStepStatus.COMPLETED


def test_an_output_at_its_limit_is_kept() -> None:
    class AtLimit(Recorder):
        def execute(self, name: str, so_far: Mapping[str, SubStepProgress]) -> dict[str, Any]:
            if name == "paymentConfig":
                # {"blob": "..."} is 12 bytes of JSON around the value
                return {"blob": "x" * (MAX_OUTPUT_BYTES - 12)}
            return super().execute(name, so_far)

    results = run(AtLimit())
    assert results["paymentConfig"].status == SubStepStatus.COMPLETED
    assert results["paymentConfig"].output == {"blob": "x" * (MAX_OUTPUT_BYTES - 12)}
