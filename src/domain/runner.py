"""Runs a phase plan: concurrently where the graph allows, a checkpoint after every change."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from clients.platform import TransientPlatformError
from domain.causes import of_exception
from domain.observability import logger, metrics
from domain.planner import PhasePlan
from state.item_size import check_output
from state.models import (
    SkipReason,
    SubStepProgress,
    SubStepStatus,
    truncate_error,
    utc_now,
)

Checkpoint = Callable[[str, SubStepProgress], None]
# Several sub-steps' progress in one write (the repository's record_skips).
CheckpointMany = Callable[[Mapping[str, SubStepProgress]], None]
# Runs one sub-step, given the results of this run so far (its in-phase inputs).
Execute = Callable[[str, Mapping[str, SubStepProgress]], dict[str, Any]]


@dataclass(frozen=True)
class RetryPolicy:
    """Retries of transient platform errors inside one sub-step (full-jitter backoff)."""

    max_attempts: int = 3
    base_delay_s: float = 0.2
    max_delay_s: float = 5.0

    def delay(self, attempt: int) -> float:
        return random.uniform(0, min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1)))


class PhaseRunner:
    def __init__(
        self,
        *,
        checkpoint: Checkpoint,
        execute: Execute,
        retry: RetryPolicy,
        sleep: Callable[[float], None] = time.sleep,
        max_workers: int = 6,
        checkpoint_many: CheckpointMany | None = None,
    ) -> None:
        self._checkpoint = checkpoint
        self._checkpoint_many = checkpoint_many
        self._execute = execute
        self._retry = retry
        self._sleep = sleep
        self._max_workers = max_workers

    def run(
        self, plan: PhasePlan, existing: dict[str, SubStepProgress]
    ) -> dict[str, SubStepProgress]:
        """Execute `plan`; return the final progress of every sub-step it ran or skipped."""
        results: dict[str, SubStepProgress] = {}
        waiting = list(plan.run)
        # Log keys live in a context variable, which worker threads do not inherit.
        log_keys = logger.thread_safe_get_current_keys()
        with ThreadPoolExecutor(max_workers=self._max_workers) as pool:
            running: dict[Future[SubStepProgress], str] = {}
            while waiting or running:
                skipped: dict[str, SubStepProgress] = {}
                starting: dict[str, SubStepProgress] = {}
                for name in list(waiting):
                    deps = plan.waits_for.get(name, ())
                    unmet = [
                        d
                        for d in deps
                        if d in results and results[d].status != SubStepStatus.COMPLETED
                    ]
                    if unmet:
                        waiting.remove(name)
                        skipped[name] = self._skipped(name, existing.get(name), unmet)
                    elif all(d in results for d in deps):
                        waiting.remove(name)
                        starting[name] = _first_attempt(existing.get(name))
                # What this round decided (skips, first attempts started) is one write.
                self._record({**skipped, **starting})
                for name, progress in skipped.items():
                    results[name] = progress
                    logger.info("sub-step skipped", sub_step=name, skip_reason=progress.skip_reason)
                for name, started in starting.items():
                    running[pool.submit(self._run_one, name, started, dict(results), log_keys)] = (
                        name
                    )
                if not running:
                    continue
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    results[running.pop(future)] = future.result()
        return results

    def _record(self, changes: Mapping[str, SubStepProgress]) -> None:
        if not changes:
            return
        if self._checkpoint_many is not None:
            self._checkpoint_many(changes)
            return
        for name, progress in changes.items():
            self._checkpoint(name, progress)

    def _skipped(
        self, name: str, previous: SubStepProgress | None, blocked_by: list[str]
    ) -> SubStepProgress:
        return SubStepProgress(
            status=SubStepStatus.SKIPPED,
            skip_reason=SkipReason.DEPENDENCY_NOT_MET,
            blocked_by=blocked_by,
            attempts=previous.attempts if previous else 0,
            generation=previous.generation if previous else 0,
            output=None,
            finished_at=utc_now(),
        )

    def _run_one(
        self,
        name: str,
        started: SubStepProgress,
        so_far: Mapping[str, SubStepProgress],
        log_keys: dict[str, Any],
    ) -> SubStepProgress:
        logger.thread_safe_clear_keys()
        logger.thread_safe_append_keys(**log_keys, sub_step=name)
        try:
            return self._attempts(name, started, so_far)
        finally:
            logger.thread_safe_clear_keys()

    def _attempts(
        self, name: str, first: SubStepProgress, so_far: Mapping[str, SubStepProgress]
    ) -> SubStepProgress:
        """Attempt `name`; its first attempt's `in_progress` (`first`) is already recorded."""
        attempts = first.attempts
        generation = first.generation
        started = first.started_at or utc_now()
        tries = 0
        while True:
            tries += 1
            if tries > 1:  # a retry: its own attempt, recorded before it is made
                attempts += 1
                self._checkpoint(
                    name,
                    SubStepProgress(
                        status=SubStepStatus.IN_PROGRESS,
                        attempts=attempts,
                        generation=generation,
                        started_at=started,
                    ),
                )
            logger.info("sub-step started", attempt=attempts)
            try:
                output = self._execute(name, so_far)
                check_output(name, output)
            except TransientPlatformError as error:
                if tries < self._retry.max_attempts:
                    delay = self._retry.delay(tries)
                    logger.warning(
                        "transient platform error, retrying",
                        error=str(error),
                        delay_s=round(delay, 3),
                    )
                    self._sleep(delay)
                    continue
                return self._failed(name, attempts, generation, started, error)
            except Exception as error:  # noqa: BLE001 - any failure of one sub-step is recorded, not fatal
                return self._failed(name, attempts, generation, started, error)
            progress = SubStepProgress(
                status=SubStepStatus.COMPLETED,
                attempts=attempts,
                generation=generation,
                output=output,
                started_at=started,
                finished_at=utc_now(),
            )
            self._checkpoint(name, progress)
            logger.info("sub-step completed", duration_ms=progress.duration_ms)
            metrics.add_metric(name="SubStepCompleted", unit=MetricUnit.Count, value=1)
            return progress

    def _failed(
        self, name: str, attempts: int, generation: int, started: Any, error: Exception
    ) -> SubStepProgress:
        cause = of_exception(error)
        progress = SubStepProgress(
            status=SubStepStatus.FAILED,
            attempts=attempts,
            generation=generation,
            error=truncate_error(cause.message),
            error_code=cause.code,
            platform_code=cause.platform_code,
            started_at=started,
            finished_at=utc_now(),
        )
        self._checkpoint(name, progress)
        logger.warning(
            "sub-step failed", error=progress.error, error_code=cause.code, exc_info=error
        )
        metrics.add_metric(name="SubStepFailed", unit=MetricUnit.Count, value=1)
        return progress


def _first_attempt(previous: SubStepProgress | None) -> SubStepProgress:
    """A sub-step's progress as its first attempt of this run starts."""
    return SubStepProgress(
        status=SubStepStatus.IN_PROGRESS,
        attempts=(previous.attempts if previous else 0) + 1,
        generation=previous.generation if previous else 0,
        started_at=utc_now(),
    )
