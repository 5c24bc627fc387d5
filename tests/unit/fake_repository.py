"""An in-memory stand-in for `state.repository.JobRepository`, for the Step 6 core's use cases.

It keeps jobs as their JSON (as the table would) and evaluates the few condition expressions
the use cases write (ownership, "no run active", run number, latest execution, a sub-step's
status and attempts), so that claims, checkpoints and settles win and lose as they do against
DynamoDB. A condition it does not know raises `NotImplementedError`: it never guesses.
Single-threaded callers only (the phase runner's threads write under one lock).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any

from pydantic_core import to_jsonable_python

from domain.step6 import NOT_ACTIVE
from state.errors import ConflictError, NotFoundError, SupersededExecutionError
from state.models import (
    AuditEvent,
    Job,
    JobStatus,
    PhaseName,
    PhaseStatus,
    SubStepProgress,
    utc_now,
)

_EQUALS = re.compile(r"^(?P<path>[#\w.]+) = (?P<value>:\w+)$")


def _split_and(condition: str) -> list[str]:
    """Top-level AND clauses (parenthesised groups stay whole)."""
    clauses, depth, current = [], 0, ""
    tokens = re.split(r"(\(|\)| AND )", condition)
    for token in tokens:
        if token == "(":
            depth += 1
        elif token == ")":
            depth -= 1
        if token == " AND " and depth == 0:
            clauses.append(current.strip())
            current = ""
        else:
            current += token
    clauses.append(current.strip())
    return [c for c in clauses if c]


_MISSING = object()


def _resolve(item: Any, path: str, names: Mapping[str, str]) -> Any:
    for part in path.split("."):
        key = names.get(part, part)
        if not isinstance(item, dict) or key not in item:
            return _MISSING
        item = item[key]
    return item


class FakeJobRepository:
    def __init__(self) -> None:
        self._jobs: dict[str, dict[str, Any]] = {}
        self._events: dict[str, list[AuditEvent]] = {}
        self._lock = threading.RLock()
        self.writes = 0

    # ------------------------------------------------------------------ helpers

    def put_job(self, job: Job) -> None:
        with self._lock:
            self._jobs[job.job_id] = job.model_dump(mode="json")

    def _holds(
        self,
        item: dict[str, Any],
        condition: str,
        values: Mapping[str, Any],
        names: Mapping[str, str],
    ) -> bool:
        for clause in _split_and(condition):
            if clause == NOT_ACTIVE:
                if item.get("active_execution") is not None:
                    return False
                continue
            if clause == "attribute_exists(step6_progress)":
                continue
            match = _EQUALS.match(clause.strip("()"))
            if match is None:
                raise NotImplementedError(f"condition clause {clause!r}")
            found = _resolve(item, match["path"], names)
            if found is _MISSING or found != to_jsonable_python(values[match["value"]]):
                return False
        return True

    # ------------------------------------------------------------------ the repository's API

    def get_job(self, job_id: str) -> Job:
        with self._lock:
            if job_id not in self._jobs:
                raise NotFoundError(f"job {job_id} not found")
            return Job.model_validate(self._jobs[job_id])

    def update_job(
        self,
        job: Job,
        *,
        set_fields: Mapping[str, Any],
        condition: str,
        values: Mapping[str, Any] | None = None,
        names: Mapping[str, str] | None = None,
        status_change: JobStatus | None = None,
        conflict: type[ConflictError] = ConflictError,
        conflict_message: str = "the job changed meanwhile",
    ) -> None:
        with self._lock:
            item = self._jobs[job.job_id]
            holds = self._holds(item, condition, values or {}, names or {})
            if status_change is not None and item["status"] != job.status.value:
                holds = False
            if not holds:
                raise conflict(conflict_message, active_execution=item.get("active_execution"))
            updated = dict(item)
            for name, value in set_fields.items():
                updated[name] = to_jsonable_python(value)
            if status_change is not None:
                updated["status"] = status_change.value
            updated["updated_at"] = utc_now().isoformat()
            self._jobs[job.job_id] = Job.model_validate(updated).model_dump(mode="json")
            self.writes += 1

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
            item["step6_progress"]["phases"][phase]["sub_steps"][sub_step] = progress.model_dump(
                mode="json"
            )
            self.writes += 1

    def set_phase_status(
        self,
        job_id: str,
        execution_arn: str,
        phase: PhaseName,
        status: PhaseStatus,
        *,
        last_completed_phase: PhaseName | None,
        skips: Mapping[str, SubStepProgress] | None = None,
    ) -> None:
        with self._lock:
            item = self._owned(job_id, execution_arn)
            progress = item["step6_progress"]
            progress["phases"][phase]["status"] = status.value
            progress["current_phase"] = phase
            progress["last_completed_phase"] = last_completed_phase
            for name, sub in (skips or {}).items():
                progress["phases"][phase]["sub_steps"][name] = sub.model_dump(mode="json")
            self.writes += 1

    def append_event(self, job_id: str, event_type: str, detail: Mapping[str, Any]) -> None:
        with self._lock:
            self._events.setdefault(job_id, []).append(
                AuditEvent(job_id=job_id, at=utc_now(), type=event_type, detail=dict(detail))
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
