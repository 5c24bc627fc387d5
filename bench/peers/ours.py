"""Ours, in process: the real Step 6 use cases over the in-memory repository.

The state machine's part is played as `tests/unit/test_step6_stateful.py` plays it: PrepareRun,
the phases in order (`domain.phase_tasks.run_phase`: sub-steps of a phase concurrently, as
`domain.runner` runs them), CompleteRun; a task that raises (a crash included) fails the
execution, which the reconciler settles. Recovery is our resume (`domain.runs.resume_job`:
one API call, `POST .../resume`), which plans from the persisted progress.
"""

from __future__ import annotations

from typing import Any

from bench.peers.common import Job
from clients.simulator import SimulatedCrash
from domain.outcome import ExecutionStatus
from domain.phase_tasks import complete_run, prepare_run, run_phase
from domain.runs import resume_job
from domain.settlement import settle_execution
from state.models import PHASE_NAMES, StepStatus


class Executions:
    """Records the executions the use cases start; `run` plays them."""

    def __init__(self) -> None:
        self.payloads: dict[str, dict[str, Any]] = {}
        self.statuses: dict[str, str] = {}

    def execution_arn(self, name: str) -> str:
        return f"arn:aws:states:us-east-1:123456789012:execution:Step6:{name}"

    def start(self, name: str, payload: dict[str, Any]) -> str:
        arn = self.execution_arn(name)
        self.payloads[arn] = payload
        self.statuses[arn] = "RUNNING"
        return arn

    def status(self, arn: str) -> tuple[str, str | None, str | None]:
        return self.statuses[arn], None, None

    def stop(self, arn: str, *, cause: str) -> None:
        self.statuses[arn] = "ABORTED"


def run_execution(job: Job, executions: Executions, arn: str, resume_from: str | None) -> str:
    """One execution, PrepareRun to CompleteRun; settled as the reconciler would."""
    deps, jobs = job.started.deps, job.started.jobs
    status, cause = ExecutionStatus.SUCCEEDED, None
    try:
        prepare_run(jobs, job.job_id, arn, resume_from)
        start = PHASE_NAMES.index(resume_from) if resume_from else 0  # type: ignore[arg-type]
        for phase in PHASE_NAMES[start:]:
            run_phase(deps, job.job_id, phase, arn)
        complete_run(jobs, deps.secrets, job.job_id, arn)
    except SimulatedCrash as crash:
        status, cause = ExecutionStatus.FAILED, f"Runtime.ExitError {crash}"
    except Exception as error:  # noqa: BLE001 - a task error fails the execution
        status, cause = ExecutionStatus.FAILED, f"{type(error).__name__} {error}"
    executions.statuses[arn] = status.value
    if status != ExecutionStatus.SUCCEEDED:
        settle_execution(jobs, job.job_id, arn, status, cause)
    return status.value


def first_run(job: Job, executions: Executions) -> str:
    return run_execution(job, executions, job.started.arn, None)


def resume(job: Job, executions: Executions) -> str:
    started = resume_job(job.started.jobs, executions, job.started.jobs.get_job(job.job_id))  # type: ignore[arg-type]
    return run_execution(job, executions, started.execution_arn, started.resume_from)


def job_status(job: Job) -> StepStatus:
    return job.started.jobs.get_job(job.job_id).status


def completed_sub_steps(job: Job) -> set[str]:
    from state.models import SubStepStatus

    progress = job.started.jobs.get_job(job.job_id).step6_progress
    return {
        name
        for phase in progress.phases.values()
        for name, sub in phase.sub_steps.items()
        if sub.status == SubStepStatus.COMPLETED
    }
