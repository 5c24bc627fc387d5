"""An in-memory stand-in for `state.repository.JobRepository`, for the Step 6 core's use cases.

It implements the repository's intent methods (claim a new run, reclaim for a redrive, release,
checkpoint, record skips, settle if unchanged) with the same preconditions, checked on the
stored job, so that claims, checkpoints and settles win and lose as they do against DynamoDB.
It parses no expression. Single-threaded callers only (the phase runner's threads write under
one lock).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from pydantic_core import to_jsonable_python

from state.errors import ConflictError, NotFoundError, SupersededExecutionError
from state.fields import TRUSTED_STORED
from state.item_size import check_output
from state.models import (
    RUNS_KEPT,
    SYSTEM_ACTOR,
    AuditEvent,
    ExecutionConfig,
    Job,
    LastFailure,
    PhaseName,
    Pipeline,
    Prospect,
    Restaurant,
    RunRecord,
    Step6Progress,
    StepState,
    StepStatus,
    SubStepProgress,
    tally_of,
    utc_now,
)


class FakeJobRepository:
    def __init__(self) -> None:
        self._jobs: dict[str, dict[str, Any]] = {}
        self._events: dict[str, list[AuditEvent]] = {}
        self._runs: dict[tuple[str, int], RunRecord] = {}
        self._lock = threading.RLock()
        self.writes = 0
        # The batch counters, moved as the real repository moves them: from `tally_of` the job
        # as read to `tally_of` the status and steps written, on each write that sets a status.
        self.tallies: Counter[tuple[str, StepStatus]] = Counter()

    # ------------------------------------------------------------------ helpers

    def put_job(self, job: Job) -> None:
        with self._lock:
            if job.job_id not in self._jobs:
                self.tallies[(job.batch_id, tally_of(job.status, job.steps))] += 1
            self._jobs[job.job_id] = job.model_dump(mode="json")

    # ------------------------------------------------------------------ the repository's API

    def get_job(self, job_id: str) -> Job:
        with self._lock:
            if job_id not in self._jobs:
                raise NotFoundError(f"job {job_id} not found")
            return Job.model_validate(self._jobs[job_id], context=TRUSTED_STORED)

    def get_job_for_org(self, org_id: str, job_id: str) -> Job:
        job = self.get_job(job_id)
        if job.org_id != org_id:
            raise NotFoundError(f"job {job_id} not found")
        return job

    def claim_new_run(
        self,
        job: Job,
        execution_arn: str,
        *,
        steps: list[StepState],
        run: RunRecord | None = None,
        execution_config: ExecutionConfig | None = None,
        progress: Step6Progress | None = None,
    ) -> None:
        fields: dict[str, Any] = {
            "active_execution": execution_arn,
            "latest_execution": execution_arn,
            "run_number": job.run_number + 1,
            "current_step": 6,
            "steps": steps,
        }
        if run is not None:
            fields["runs_recorded"] = run.run
        if execution_config is not None:
            fields["execution_config"] = execution_config
        as_read = _statuses_and_attempts(job.step6_progress.model_dump(mode="json"))
        if progress is not None:
            fields["step6_progress"] = progress
        self._update(
            job,
            fields,
            lambda item: (
                item.get("active_execution") is None
                and item["run_number"] == job.run_number
                and (progress is None or _statuses_and_attempts(item["step6_progress"]) == as_read)
            ),
            status=StepStatus.IN_PROGRESS,
            conflict_message="a Step 6 run is already active for this job",
            run=run,
        )

    def reclaim_for_redrive(
        self,
        job: Job,
        execution_arn: str,
        *,
        steps: list[StepState],
        run: RunRecord | None = None,
    ) -> None:
        self._update(
            job,
            {"active_execution": execution_arn, "steps": steps, "current_step": 6}
            | ({"runs_recorded": run.run} if run is not None else {}),
            lambda item: (
                item.get("active_execution") is None
                and item.get("latest_execution") == execution_arn
            ),
            status=StepStatus.IN_PROGRESS,
            conflict=SupersededExecutionError,
            conflict_message=f"execution {execution_arn} was superseded",
            run=run,
        )

    def get_run(self, job_id: str, run: int) -> RunRecord | None:
        with self._lock:
            return self._runs.get((job_id, run))

    def list_runs(self, job_id: str) -> list[RunRecord]:
        with self._lock:
            mine = [r for (j, _), r in self._runs.items() if j == job_id]
            return sorted(mine, key=lambda r: r.run, reverse=True)[:RUNS_KEPT]

    def amend_config(
        self,
        job: Job,
        config: ExecutionConfig,
        *,
        steps: list[StepState],
        status: StepStatus,
        last_failure: LastFailure | None,
    ) -> None:
        self._update(
            job,
            {"execution_config": config, "steps": steps, "last_failure": last_failure},
            lambda item: (
                item.get("active_execution") is None and item["run_number"] == job.run_number
            ),
            status=status,
        )

    def record_operator_change(
        self,
        job: Job,
        *,
        progress: Step6Progress,
        steps: list[StepState],
        status: StepStatus,
        last_failure: LastFailure | None,
    ) -> None:
        as_read = _statuses_and_attempts(job.step6_progress.model_dump(mode="json"))
        self._update(
            job,
            {"step6_progress": progress, "steps": steps, "last_failure": last_failure},
            lambda item: (
                item.get("active_execution") is None
                and item["run_number"] == job.run_number
                and _statuses_and_attempts(item["step6_progress"]) == as_read
            ),
            status=status,
        )

    def release_claim(
        self, job: Job, execution_arn: str, *, steps: list[StepState], status: StepStatus
    ) -> None:
        self._update(
            job,
            {"active_execution": None, "steps": steps},
            lambda item: item.get("active_execution") == execution_arn,
            status=status,
        )

    def settle_run(
        self,
        job: Job,
        execution_arn: str,
        *,
        status: StepStatus,
        current_step: int,
        steps: list[StepState],
        progress: Step6Progress,
        last_failure: LastFailure | None,
        run: RunRecord | None = None,
    ) -> None:
        as_read = _statuses_and_attempts(job.step6_progress.model_dump(mode="json"))
        self._update(
            job,
            {
                "active_execution": None,
                "current_step": current_step,
                "steps": steps,
                "step6_progress": progress,
                "last_failure": last_failure,
            },
            lambda item: (
                item.get("active_execution") == execution_arn
                and _statuses_and_attempts(item["step6_progress"]) == as_read
            ),
            status=status,
            run=run,
        )

    def _update(
        self,
        job: Job,
        fields: Mapping[str, Any],
        holds: Callable[[dict[str, Any]], bool],
        *,
        status: StepStatus,
        conflict: type[ConflictError] = ConflictError,
        conflict_message: str = "the job changed meanwhile",
        run: RunRecord | None = None,
    ) -> None:
        with self._lock:
            item = self._jobs[job.job_id]
            if not holds(item) or item["status"] != job.status.value:
                raise conflict(conflict_message, active_execution=item.get("active_execution"))
            updated = dict(item)
            for name, value in fields.items():
                updated[name] = to_jsonable_python(value)
            updated["status"] = status.value
            updated["updated_at"] = utc_now().isoformat()
            self._jobs[job.job_id] = Job.model_validate(updated).model_dump(mode="json")
            old = tally_of(job.status, job.steps)
            new = tally_of(status, fields.get("steps", job.steps))
            if old != new:
                self.tallies[(job.batch_id, old)] -= 1
                self.tallies[(job.batch_id, new)] += 1
            if run is not None:
                self._runs[(job.job_id, run.run)] = run
                self._runs.pop((job.job_id, run.run - RUNS_KEPT), None)  # the ring's slot
            self.writes += 1

    # ------------------------------------------------------------------ steps 1-4

    def claim_pipeline(
        self,
        job: Job,
        execution_arn: str,
        *,
        steps: list[StepState],
        status: StepStatus,
        current_step: int,
        pipeline: Pipeline,
        restaurant: Restaurant | Prospect | None = None,
    ) -> None:
        runs = (job.pipeline or Pipeline()).runs
        fields = self._pipeline_fields(
            steps, current_step, pipeline.model_copy(update={"execution": execution_arn}), None
        )
        if restaurant is not None:
            fields["restaurant"] = restaurant
        self._update(
            job,
            fields,
            lambda item: (
                (item.get("pipeline") or {}).get("execution") is None
                and (item.get("pipeline") or {}).get("runs") == runs
            ),
            status=status,
        )

    def advance_pipeline(
        self,
        job: Job,
        execution_arn: str,
        *,
        steps: list[StepState],
        status: StepStatus,
        current_step: int,
        pipeline: Pipeline,
        restaurant: Restaurant | Prospect | None = None,
        last_failure: LastFailure | None = None,
    ) -> None:
        fields = self._pipeline_fields(steps, current_step, pipeline, last_failure)
        if restaurant is not None:
            fields["restaurant"] = restaurant
        self._update(
            job,
            fields,
            lambda item: (item.get("pipeline") or {}).get("execution") == execution_arn,
            status=status,
            conflict=SupersededExecutionError,
        )

    @staticmethod
    def _pipeline_fields(
        steps: list[StepState],
        current_step: int,
        pipeline: Pipeline,
        last_failure: LastFailure | None,
    ) -> dict[str, Any]:
        return {
            "steps": steps,
            "current_step": current_step,
            "pipeline": pipeline,
            "last_failure": last_failure,
        }

    def _owned(self, job_id: str, execution_arn: str) -> dict[str, Any]:
        item = self._jobs[job_id]
        if item.get("active_execution") != execution_arn:
            raise SupersededExecutionError(
                f"execution {execution_arn} no longer owns job {job_id}",
                active_execution=item.get("active_execution"),
            )
        return item

    def checkpoint_sub_step(
        self,
        job_id: str,
        execution_arn: str,
        phase: PhaseName,
        sub_step: str,
        progress: SubStepProgress,
    ) -> None:
        with self._lock:
            item = self._owned(job_id, execution_arn)
            check_output(sub_step, progress.output)
            item["step6_progress"]["phases"][phase]["sub_steps"][sub_step] = progress.model_dump(
                mode="json"
            )
            self.writes += 1

    def record_skips(
        self,
        job_id: str,
        execution_arn: str,
        phase: PhaseName,
        skips: Mapping[str, SubStepProgress],
    ) -> None:
        if not skips:
            return
        with self._lock:
            item = self._owned(job_id, execution_arn)
            for name, sub in skips.items():
                check_output(name, sub.output)
                item["step6_progress"]["phases"][phase]["sub_steps"][name] = sub.model_dump(
                    mode="json"
                )
            self.writes += 1

    def forget_password_secret(self, job_id: str, ref: str) -> bool:
        with self._lock:
            account = (self._jobs[job_id].get("execution_config") or {}).get("account") or {}
            if account.get("password_secret_ref") != ref:
                return False
            account["password_secret_ref"] = None
            account["password_deleted_at"] = utc_now().isoformat()
            self.writes += 1
            return True

    def append_event(
        self,
        job_id: str,
        event_type: str,
        detail: Mapping[str, Any],
        *,
        actor: str = SYSTEM_ACTOR,
    ) -> None:
        with self._lock:
            self._events.setdefault(job_id, []).append(
                AuditEvent(
                    job_id=job_id, at=utc_now(), type=event_type, actor=actor, detail=dict(detail)
                )
            )

    def trim_events(self, job_id: str, event_type: str, keep: int) -> int:
        with self._lock:
            events = self._events.get(job_id, [])
            of_type = [e for e in events if e.type == event_type]
            excess = of_type[: max(0, len(of_type) - keep)]
            self._events[job_id] = [e for e in events if not any(e is x for x in excess)]
            return len(excess)

    def list_events(self, job_id: str) -> list[AuditEvent]:
        with self._lock:
            return list(self._events.get(job_id, []))


def _statuses_and_attempts(progress: Mapping[str, Any]) -> dict[tuple[str, str], tuple[Any, Any]]:
    return {
        (phase, name): (sub["status"], sub["attempts"])
        for phase, subs in progress["phases"].items()
        for name, sub in subs["sub_steps"].items()
    }
