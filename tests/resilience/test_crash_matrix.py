"""The crash-point matrix: every sub-step x every fault x both ways back, through the real ASL.

Each of the 96 cells runs its own job (its own batch and restaurant, so that no account is
shared by email) with one fault scoped to that job, lets the run end, recovers it, and then
checks that:

- the job completes (every sub-step and phase completed, no failure left, nothing active);
- every sub-step's platform side effect happened exactly once: one ledger entry per sub-step,
  taken once, one platform object per sub-step for the job, and no sub-step that had already
  succeeded was called again;
- the final progress equals an uninterrupted run's: the same statuses and *the same outputs*
  as the sub-steps' own logic produces for this job on a fresh platform
  (`support.reference_outputs`; object ids are derived from the idempotency key and the
  effect's sequence number, so a repeated effect could not hide). Attempts differ, by design:
  the faulted sub-step counts its extra attempts, every other one shows exactly 1;
- the audit trail records the failure (the sub-step's own `sub_step_failed`, or the run's
  `last_failure`), then the way back (`resume_requested` or `run_redriven`), then a clean
  `run_succeeded`.

Faults (`times` counts affected calls):

- `fail`: a permanent error, once.
- `transient`: `max_attempts + 1` transient errors: the first run exhausts its retries (a
  transient fault that outlasts the retries behaves as a failure), and the recovery's first
  try meets the last one and succeeds on retry. The within-retries case, where no recovery is
  needed, is `test_transient_errors_within_the_retries_need_no_recovery`.
- `crash_before` / `crash_after`: the phase Lambda dies before the call, or after the call took
  effect but before the checkpoint (Runtime.ExitError): the execution fails whatever the
  sub-step's blocking flag.

Ways back, and how they map when a way does not apply:

- `resume`: `domain.runs.resume_job` (the API's use case): a new execution from the resume
  point.
- `redrive`: `LocalRuntime.redrive` (RedriveExecution emulation): the same execution, from the
  failed state. Redrive only applies to a FAILED execution. A non-blocking `fail` or
  `transient` leaves the execution SUCCEEDED (the job "completed with errors"): there the cell
  proves that the redrive is refused, as AWS refuses it (ExecutionNotRedrivable), and that the
  API resume, the one way back for that job, heals it.

The cells run one after another on one runtime (jobs are independent by id; faults are
scoped to their job), in a module fixture that records what each did; each test then checks
its own cell. The figures go to test-output/matrix.json.
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from clients.simulator import LedgerEntry
from domain.catalogue import CATALOGUE, SUB_STEPS, phase_of
from domain.outcome import is_resumable
from domain.resume import phase_statuses
from domain.runs import resume_job
from handlers.settings import get_settings
from handlers.wiring import api_deps, step6_deps
from local.runtime import LocalRuntime
from state.models import (
    PHASE_NAMES,
    AuditEvent,
    ErrorCode,
    Job,
    PhaseStatus,
    StepStatus,
    SubStepStatus,
)
from tests.integration.conftest import ORG, Harness
from tests.resilience.support import (
    SMALL_MENU_CONFIG,
    LedgerReport,
    create_small_job,
    event_index,
    ledger_report,
    names_failure_of,
    outputs,
    purge_job,
    reference_outputs,
    statuses,
    sub_steps,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

FAULTS = ("fail", "transient", "crash_before", "crash_after")
WAYS = ("resume", "redrive")
OUTPUT_DIR = Path(__file__).resolve().parents[2] / "test-output"


def output_of(runtime: LocalRuntime) -> Path:
    """matrix.json behind the in-memory simulator, matrix-sandbox.json behind the sandbox."""
    suffix = "" if runtime.platform == "simulator" else f"-{runtime.platform}"
    return OUTPUT_DIR / f"matrix{suffix}.json"


@dataclass(frozen=True)
class Cell:
    number: int
    sub_step: str
    fault: str
    way: str

    @property
    def restaurant(self) -> str:
        return f"Matrix Cell {self.number:02d}"

    @property
    def blocking(self) -> bool:
        return SUB_STEPS[self.sub_step].blocking

    @property
    def execution_fails(self) -> bool:
        """Does the first run's execution fail (rather than complete with errors)?"""
        return self.fault.startswith("crash") or self.blocking

    def __str__(self) -> str:
        return f"{self.sub_step}-{self.fault}-{self.way}"


CELLS = [
    Cell(n, sub_step, fault, way)
    for n, (sub_step, fault, way) in enumerate(
        (s.name, f, w) for s in CATALOGUE for f in FAULTS for w in WAYS
    )
]


@dataclass
class Run:
    """What one cell did and left behind."""

    job_id: str = ""
    first_status: str = ""
    after_first: Job | None = None
    effects_after_first: dict[str, int] = field(default_factory=dict)
    redrive_refused: bool | None = None
    recovery_status: str = ""
    recovery_states: list[str] = field(default_factory=list)
    final: Job | None = None
    events: list[AuditEvent] = field(default_factory=list)
    ledger: LedgerReport | None = None
    reference: dict[str, dict[str, Any]] = field(default_factory=dict)
    causes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: BaseException | None = None
    trace: str = ""

    def left_behind(self) -> tuple[Job, LedgerReport]:
        """The final job and the ledger; raises what went wrong if the run did not finish."""
        if self.error is not None:
            raise self.error
        assert self.final is not None and self.ledger is not None
        return self.final, self.ledger


@dataclass
class Matrix:
    runs: dict[Cell, Run]
    baseline: Run
    within_retries: Run
    max_attempts: int
    seconds: float
    output: Path
    cpu_seconds: float = 0.0


def _cause(arn: str) -> str:
    described = boto3.client("stepfunctions").describe_execution(executionArn=arn)
    return f"{described['status']} {described.get('error')} {described.get('cause')}"


def _finish(h: Harness, run: Run) -> None:
    run.final = h.jobs.get_job(run.job_id)
    run.events = h.jobs.list_events(run.job_id)
    run.ledger = ledger_report(h.simulator, run.job_id)
    run.reference = reference_outputs(run.final)
    purge_job(get_settings().table_name, run.final)


def _run_cell(h: Harness, cell: Cell, max_attempts: int) -> Run:
    run = Run()
    started = time.monotonic()
    try:
        job = create_small_job(h.jobs, ORG, cell.restaurant)
        run.job_id = job.job_id
        times = max_attempts + 1 if cell.fault == "transient" else 1
        h.fault(cell.sub_step, cell.fault, times=times, job_id=job.job_id)
        arn = h.submit(job, menu=SMALL_MENU_CONFIG)
        run.first_status = h.runtime.wait_for(arn, 120)
        run.causes.append(_cause(arn))
        run.after_first = h.jobs.get_job(job.job_id)
        run.effects_after_first = {e.sub_step: e.count for e in h.simulator.effects_for(job.job_id)}
        if cell.way == "redrive" and run.first_status == "FAILED":
            run.recovery_status = h.runtime.redrive(arn)
        else:
            if cell.way == "redrive":
                try:
                    h.runtime.redrive(arn)
                    run.redrive_refused = False
                except ValueError:
                    run.redrive_refused = True
            deps = api_deps()
            started_run = resume_job(deps.jobs, deps.executions, run.after_first)
            run.recovery_status = h.runtime.wait_for(started_run.execution_arn, 120)
            run.causes.append(_cause(started_run.execution_arn))
            run.recovery_states = h.runtime.entered_states(started_run.execution_arn)
        _finish(h, run)
    except BaseException as error:  # noqa: BLE001 - reported by the cell's own test
        run.error = error
        run.trace = "".join(traceback.format_exception(error))
    run.seconds = time.monotonic() - started
    return run


def _run_plain(h: Harness, name: str, faults: list[tuple[str, int]]) -> Run:
    run = Run()
    started = time.monotonic()
    try:
        job = create_small_job(h.jobs, ORG, name)
        run.job_id = job.job_id
        for sub_step, times in faults:
            h.fault(sub_step, "transient", times=times, job_id=job.job_id)
        run.first_status = h.runtime.wait_for(h.submit(job, menu=SMALL_MENU_CONFIG), 120)
        _finish(h, run)
    except BaseException as error:  # noqa: BLE001
        run.error = error
    run.seconds = time.monotonic() - started
    return run


def _figures(matrix: Matrix, whole_ledger: list[LedgerEntry]) -> dict[str, Any]:
    everything = [*matrix.runs.values(), matrix.baseline, matrix.within_retries]
    ledger_duplicates = _duplicates_in(whole_ledger)
    cells = []
    for cell, run in matrix.runs.items():
        cells.append(
            {
                "cell": str(cell),
                "blocking": cell.blocking,
                "first_execution": run.first_status,
                "way_back": (
                    "redrive"
                    if cell.way == "redrive" and run.first_status == "FAILED"
                    else "redrive refused, API resume"
                    if cell.way == "redrive"
                    else "API resume"
                ),
                "recovery_execution": run.recovery_status,
                "job_status": run.final.status.value if run.final else None,
                "side_effects_checked": len(run.ledger.counts) if run.ledger else 0,
                "duplicates": run.ledger.duplicates if run.ledger else None,
                "seconds": round(run.seconds, 2),
                "error": run.trace or None,
                "causes": run.causes,
            }
        )
    return {
        "combinations_run": sum(1 for r in matrix.runs.values() if r.error is None),
        "combinations_planned": len(matrix.runs),
        "sub_steps": len(CATALOGUE),
        "faults": list(FAULTS),
        "ways_back": list(WAYS),
        "side_effects_checked": sum(len(r.ledger.counts) for r in everything if r.ledger),
        "duplicates_found": sum(r.ledger.duplicates for r in everything if r.ledger)
        + ledger_duplicates,
        "max_attempts": matrix.max_attempts,
        "elapsed_s": round(matrix.seconds, 1),
        "cpu_s": round(matrix.cpu_seconds, 1),
        "extra_runs": {
            "uninterrupted_baseline": matrix.baseline.final.status.value
            if matrix.baseline.final
            else repr(matrix.baseline.error),
            "transient_within_retries": matrix.within_retries.final.status.value
            if matrix.within_retries.final
            else repr(matrix.within_retries.error),
        },
        "cells": cells,
    }


def _duplicates_in(ledger: list[LedgerEntry]) -> int:
    """Across the whole ledger: effects repeated under a key, or made twice for a job."""
    per_job_sub_step: dict[tuple[str, str], int] = {}
    repeated = 0
    for entry in ledger:
        repeated += max(0, entry.count - 1)
        key = (entry.job_id, entry.sub_step)
        per_job_sub_step[key] = per_job_sub_step.get(key, 0) + 1
    return repeated + sum(n - 1 for n in per_job_sub_step.values() if n > 1)


@pytest.fixture(scope="module")
def cells() -> list[Cell]:
    """The cells this package runs (the sandbox's package runs a bounded subset)."""
    return CELLS


@pytest.fixture(scope="module")
def matrix(runtime: LocalRuntime, cells: list[Cell]) -> Iterator[Matrix]:
    simulator = runtime.simulator
    simulator.reset()
    h = Harness(runtime, simulator)
    max_attempts = step6_deps().retry.max_attempts
    started, cpu = time.monotonic(), time.process_time()
    # One cell after another: moto's DynamoDB is not thread-safe across items (a transaction
    # deep-copies the whole table while other writers insert), and the work is CPU-bound anyway.
    baseline = _run_plain(h, "Matrix Baseline", [])
    within = _run_plain(h, "Matrix Within Retries", [(s.name, max_attempts - 1) for s in CATALOGUE])
    runs = {cell: _run_cell(h, cell, max_attempts) for cell in cells}
    output = output_of(runtime)
    result = Matrix(runs, baseline, within, max_attempts, time.monotonic() - started, output)
    result.cpu_seconds = time.process_time() - cpu
    output.parent.mkdir(exist_ok=True)
    figures = _figures(result, simulator.ledger())
    output.write_text(json.dumps(figures | {"platform": runtime.platform}, indent=2) + "\n")
    yield result
    simulator.reset()


# ---------------------------------------------------------------- the cells


def _expected_attempts(cell: Cell, max_attempts: int) -> int:
    # transient: max_attempts in the first run, then one failure and a success.
    return max_attempts + 2 if cell.fault == "transient" else 2


def _interrupted_siblings(first: Job, faulted: str) -> set[str]:
    """The other sub-steps the first run's crash cut short (settled as interrupted)."""
    return {
        n
        for n, s in sub_steps(first).items()
        if n != faulted
        and s.status == SubStepStatus.FAILED
        and s.error_code == ErrorCode.INTERRUPTED
    }


def _expected_calls(cell: Cell, max_attempts: int) -> int:
    """How often the faulted sub-step's mutating call is made, recovery included."""
    if cell.sub_step == "cloudwaitressAccount":
        # Faults strike its account lookup first; after crash_after the lookup finds the
        # account this job created, and nothing is created again.
        return 1
    return {"fail": 2, "transient": max_attempts + 2, "crash_before": 2, "crash_after": 2}[
        cell.fault
    ]


@pytest.mark.parametrize("cell", CELLS, ids=str)
def test_cell(matrix: Matrix, cell: Cell) -> None:
    check_cell(matrix, cell)


def check_cell(matrix: Matrix, cell: Cell) -> None:
    run = matrix.runs[cell]
    if run.error is not None:
        raise run.error
    assert run.after_first is not None and run.final is not None and run.ledger is not None
    first, final, name = run.after_first, run.final, cell.sub_step
    max_attempts = matrix.max_attempts

    # -- the first run ends as the fault dictates, with the failure named and resumable
    assert run.first_status == ("FAILED" if cell.execution_fails else "SUCCEEDED")
    failed = sub_steps(first)[name]
    assert failed.status == SubStepStatus.FAILED
    interrupted = _interrupted_siblings(first, name)
    # a crash kills the Lambda with every sub-step it was running: the settler cannot tell
    # which one's call it died in, and names one of them
    assert first.last_failure is not None
    assert first.last_failure.sub_step in {name} | interrupted
    assert first.last_failure.phase == phase_of(name)
    assert first.active_execution is None and is_resumable(first)
    assert first.step(5).status == StepStatus.COMPLETED
    if cell.execution_fails:
        assert first.status == StepStatus.ACTION_REQUIRED
        assert first.step(6).status == StepStatus.FAILED
    else:
        assert first.status == StepStatus.COMPLETED  # completed with errors
        assert phase_statuses(first.execution_config, first.step6_progress)[phase_of(name)] == (
            PhaseStatus.COMPLETED_WITH_ERRORS
        )
    if cell.fault.startswith("crash"):
        assert failed.error_code == ErrorCode.INTERRUPTED
        # crash_after: the effect took place before the Lambda died; crash_before: it did not
        assert (name in run.effects_after_first) == (cell.fault == "crash_after")
    if cell.fault == "transient":
        assert failed.attempts == max_attempts

    # -- the way back
    if cell.way == "redrive" and cell.execution_fails:
        assert run.redrive_refused is None
        assert run.recovery_status == "SUCCEEDED"
        assert final.run_number == 1  # same execution
    else:
        assert run.redrive_refused is (True if cell.way == "redrive" else None)
        assert run.recovery_status == "SUCCEEDED"
        assert final.run_number == 2
        # the new execution starts at the failed sub-step's phase; no earlier phase runs
        phase = phase_of(name)
        assert f"Phase{phase[-1]}" in run.recovery_states
        earlier = {f"Phase{p[-1]}" for p in PHASE_NAMES[: PHASE_NAMES.index(phase)]}
        assert not earlier & set(run.recovery_states)

    # -- the job completes
    assert final.status == StepStatus.COMPLETED
    assert final.step(6).status == StepStatus.COMPLETED
    assert final.active_execution is None and final.last_failure is None
    assert set(phase_statuses(final.execution_config, final.step6_progress).values()) == {
        PhaseStatus.COMPLETED
    }
    assert not is_resumable(final)

    # -- progress and outputs equal an uninterrupted run's
    assert set(statuses(final).values()) == {SubStepStatus.COMPLETED}
    assert outputs(final) == run.reference
    # A crash kills the whole phase Lambda, as on AWS: a sibling sub-step that was in flight
    # at that moment is interrupted too, and runs once more on the way back.
    if not cell.fault.startswith("crash"):
        assert not interrupted
    attempts = {n: s.attempts for n, s in sub_steps(final).items()}
    assert attempts == {s.name: 1 for s in CATALOGUE} | {
        name: _expected_attempts(cell, max_attempts)
    } | dict.fromkeys(interrupted, 2)

    # -- every side effect exactly once; nothing that had succeeded was asked for again
    report = run.ledger
    assert report.counts == {s.name: 1 for s in CATALOGUE}
    assert report.entries_per_sub_step == {s.name: 1 for s in CATALOGUE}
    assert report.objects_per_sub_step == {s.name: 1 for s in CATALOGUE}
    assert report.duplicates == 0
    # (an interrupted sibling may have reached the platform before the crash: then it asks
    # again, under the same key, and the platform answers with the first result)
    calls = {n: c for n, c in report.calls.items() if n not in interrupted}
    assert calls == {s.name: 1 for s in CATALOGUE if s.name not in interrupted} | {
        name: _expected_calls(cell, max_attempts)
    }
    assert all(report.calls.get(n, 0) in (1, 2) for n in interrupted)

    # -- the audit trail: the failure, then the way back, then a clean success
    events = run.events
    # (after a crash, the run's failure may name a sibling the crash interrupted with it)
    found = [event_index(events, names_failure_of(n)) for n in {name} | interrupted]
    failure_at = min((i for i in found if i >= 0), default=-1)
    way_back = (
        "run_redriven" if cell.way == "redrive" and cell.execution_fails else "resume_requested"
    )
    back_at = event_index(events, lambda e: e.type == way_back)
    assert 0 <= failure_at < back_at
    last = events[-1]
    assert last.type == "run_succeeded" and last.detail["last_failure"] is None
    assert back_at < len(events) - 1


def test_the_reference_is_what_an_uninterrupted_run_produces(matrix: Matrix) -> None:
    run = matrix.baseline
    final, ledger = run.left_behind()
    assert run.first_status == "SUCCEEDED"
    assert final.status == StepStatus.COMPLETED
    assert outputs(final) == run.reference
    assert ledger.counts == ledger.calls == {s.name: 1 for s in CATALOGUE}


def test_transient_errors_within_the_retries_need_no_recovery(matrix: Matrix) -> None:
    # given every sub-step fails transiently max_attempts - 1 times in one run
    run = matrix.within_retries
    final, ledger = run.left_behind()
    # then the run simply succeeds, each attempt counted, each effect once
    assert run.first_status == "SUCCEEDED"
    assert final.status == StepStatus.COMPLETED and final.run_number == 1
    assert {n: s.attempts for n, s in sub_steps(final).items()} == {
        s.name: matrix.max_attempts for s in CATALOGUE
    }
    assert outputs(final) == run.reference
    assert ledger.counts == {s.name: 1 for s in CATALOGUE}
    assert not any(e.type == "sub_step_failed" for e in run.events)


def test_matrix_figures(matrix: Matrix, cells: list[Cell]) -> None:
    figures = json.loads(matrix.output.read_text())
    assert len(CELLS) == 96
    assert figures["combinations_planned"] == len(cells) == len(matrix.runs)
    assert figures["combinations_run"] == len(cells)
    # every cell's job and the two plain runs' jobs: each sub-step's effect checked once per job
    assert figures["side_effects_checked"] == (len(cells) + 2) * len(CATALOGUE)
    assert figures["duplicates_found"] == 0
