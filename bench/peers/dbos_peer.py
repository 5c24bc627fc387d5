"""Step 6 on DBOS: one workflow, each sub-step a `@DBOS.step`, state in a SQLite system database.

Written as DBOS's guide has a user write it: the workflow walks the phases in order and calls
the enabled sub-steps one after another (a workflow's steps run in order; DBOS's way to run
steps concurrently is a queue of child workflows, which this version does not use). A blocking
failure ends the workflow in ERROR; a non-blocking one is caught by the workflow and recorded.

Recovery, DBOS's own way: a crash (`SimulatedCrash` escaping the step, the process gone) leaves
the workflow PENDING; `DBOS.destroy()` and a new launch on the same SQLite file recover it,
replaying recorded steps and running the interrupted step again. A failed sub-step is
re-attempted with `DBOS.fork_workflow(id, start_step)` from that step (a new workflow id).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.peers import common
from bench.peers.common import BlockingFailureError, Job
from domain.catalogue import CATALOGUE, SUB_STEPS, sub_steps_of

# The jobs the application knows (its database, in a real one): workflow args are ids only.
JOBS: dict[str, Job] = {}
VARIANTS = ("default", "guided")


def _step_for(name: str) -> Callable[..., dict[str, Any]]:
    from dbos import DBOS

    def run(job_id: str, variant: str, outputs: dict[str, dict[str, Any]]) -> dict[str, Any]:
        job = JOBS[job_id]
        meta = (
            common.stable_meta(job, DBOS.workflow_id or job_id, name)
            if variant == "guided"
            else common.fresh_meta(job, name)
        )
        return common.call_sub_step(job, SUB_STEPS[name], outputs, meta)

    run.__name__ = run.__qualname__ = f"substep_{name}"
    return DBOS.step(name=f"step6.{name}")(run)


def _register() -> tuple[dict[str, Callable[..., dict[str, Any]]], Callable[..., Any]]:
    from dbos import DBOS

    steps = {spec.name: _step_for(spec.name) for spec in CATALOGUE}

    @DBOS.workflow(name="step6")
    def step6(job_id: str, variant: str) -> dict[str, Any]:
        job = JOBS[job_id]
        outputs: dict[str, dict[str, Any]] = {}
        outcome: dict[str, str] = {}
        for phase in common.PHASES:
            for spec in sub_steps_of(phase):
                if not spec.enabled(job.config):
                    continue
                if common.unmet(spec, outcome):
                    outcome[spec.name] = "skipped"
                    continue
                try:
                    outputs[spec.name] = steps[spec.name](job_id, variant, outputs)
                except Exception as error:  # noqa: BLE001 - recorded; a blocking one ends it
                    outcome[spec.name] = "failed"
                    if spec.blocking:
                        raise BlockingFailureError(f"{spec.name}: {error}") from None
                    continue
                outcome[spec.name] = "completed"
        return {"outcome": outcome}

    return steps, step6


_REGISTERED: tuple[dict[str, Callable[..., dict[str, Any]]], Callable[..., Any]] | None = None


def registered() -> tuple[dict[str, Callable[..., dict[str, Any]]], Callable[..., Any]]:
    global _REGISTERED
    if _REGISTERED is None:
        _REGISTERED = _register()
    return _REGISTERED


def launch(database: Path) -> None:
    from dbos import DBOS

    registered()
    DBOS(config={"name": "pumpd-step6-peer", "system_database_url": f"sqlite:///{database}"})
    DBOS.launch()


def destroy() -> None:
    from dbos import DBOS

    DBOS.destroy()


def run_job(job: Job, variant: str) -> tuple[str, dict[str, Any] | None, str | None]:
    """Start the workflow (id = the job id, as DBOS advises for a business key). Returns
    (how it ended, its result, error) where ended is completed|failed|crashed."""
    from dbos import SetWorkflowID

    from clients.simulator import SimulatedCrash

    _, step6 = registered()
    JOBS[job.job_id] = job
    try:
        with SetWorkflowID(job.job_id):
            result = step6(job.job_id, variant)
    except SimulatedCrash:
        return "crashed", None, None
    except Exception as error:  # noqa: BLE001 - the workflow ended in ERROR
        return "failed", None, str(error)
    return "completed", result, None


def result_of(workflow_id: str) -> tuple[str, dict[str, Any] | None]:
    from dbos import DBOS

    try:
        return "completed", DBOS.retrieve_workflow(workflow_id).get_result()
    except Exception:  # noqa: BLE001 - ended in ERROR
        return "failed", None


def failed_step_id(workflow_id: str, name: str) -> int | None:
    from dbos import DBOS

    for step in DBOS.list_workflow_steps(workflow_id, load_output=False):
        if step["function_name"].endswith(f"step6.{name}") and step["error"] is not None:
            return step["function_id"]
    for step in DBOS.list_workflow_steps(workflow_id, load_output=True):
        if step["function_name"].endswith(f"step6.{name}") and step["error"] is not None:
            return step["function_id"]
    return None


def fork_from(workflow_id: str, start_step: int) -> tuple[str, str, dict[str, Any] | None]:
    from dbos import DBOS

    handle = DBOS.fork_workflow(workflow_id, start_step)
    try:
        return handle.workflow_id, "completed", handle.get_result()
    except Exception:  # noqa: BLE001
        return handle.workflow_id, "failed", None
