"""What an operator's fix does to a job, as pure functions over its config and progress.

- `config_changes` / `in_use`: which fields an amendment changes, and which completed
  sub-steps have read them (those may no longer change: their effect is done).
- `rerun_closure` / `reset_for_rerun`: the named sub-steps and everything that depends on
  them, set back to pending with a new key generation (so each takes effect once more).
- `operator_skip`: a failed non-blocking sub-step accepted as skipped, for good.
- `standing`: the job's status, Step 6's and its last failure once the progress changed
  without a run (after a skip nothing may be left to do).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from domain.catalogue import CATALOGUE, SUB_STEPS, dependents_of
from domain.outcome import failure_of, first_failure, step6_outcome
from domain.resume import resume_point
from state.models import (
    ErrorCode,
    ExecutionConfig,
    Job,
    LastFailure,
    SkipReason,
    Step6Progress,
    StepState,
    StepStatus,
    SubStepProgress,
    SubStepStatus,
)

PASSWORD = "account.password"


def _flatten(value: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, item in value.items():
        if isinstance(item, Mapping):
            flat |= _flatten(item, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = item
    return flat


def config_changes(
    current: ExecutionConfig, amended: Mapping[str, Any], *, new_password: bool
) -> list[str]:
    """The config paths (`account.email`, `steps_enabled.menuImport`, …) whose value the
    amendment (the fields given, as plain values) changes; a new password always does."""
    stored = _flatten(current.model_dump(mode="json"))
    wanted = _flatten(amended)
    changed = [
        path
        for path, value in wanted.items()
        if stored.get(path, True if path.startswith("steps_enabled.") else None) != value
    ]
    return changed + ([PASSWORD] if new_password else [])


def _reads(path: str) -> list[str]:
    if path.startswith("steps_enabled."):
        return [path.removeprefix("steps_enabled.")]
    return [spec.name for spec in CATALOGUE if path in spec.config_fields]


# Failures known to have taken no effect on the platform: its inputs may still change. After
# any other attempt (interrupted, timed out, unavailable, …) the effect may have happened under
# the sub-step's key, and a retry with other inputs would get the first answer back.
NO_EFFECT = frozenset({ErrorCode.PLATFORM_REJECTED, ErrorCode.INVALID_CONFIG})


def _used(sub: SubStepProgress) -> bool:
    if sub.status == SubStepStatus.COMPLETED:
        return True
    return sub.status == SubStepStatus.FAILED and sub.error_code not in NO_EFFECT


def in_use(paths: list[str], progress: Step6Progress) -> dict[str, list[str]]:
    """For each path a sub-step has used (completed, or attempted with an uncertain effect):
    those sub-steps."""
    completed = {
        name
        for phase in progress.phases.values()
        for name, sub in phase.sub_steps.items()
        if _used(sub)
    }
    used = {path: [n for n in _reads(path) if n in completed] for path in paths}
    return {path: names for path, names in used.items() if names}


def rerun_closure(names: list[str]) -> list[str]:
    """The named sub-steps and every sub-step that depends on them, in catalogue order."""
    wanted = set(names)
    for name in names:
        wanted |= set(dependents_of(name))
    return [spec.name for spec in CATALOGUE if spec.name in wanted]


def reset_for_rerun(progress: Step6Progress, closure: list[str]) -> Step6Progress:
    """`progress` with the closure's sub-steps pending again. A completed one gets a new key
    generation (its platform calls take effect once more); attempts keep counting."""
    reset = progress.model_copy(deep=True)
    for name in closure:
        phase = SUB_STEPS[name].phase
        subs = reset.phases[phase].sub_steps
        before = subs.get(name, SubStepProgress())
        done = before.status == SubStepStatus.COMPLETED
        subs[name] = SubStepProgress(
            attempts=before.attempts, generation=before.generation + (1 if done else 0)
        )
    return reset


def operator_skip(
    progress: Step6Progress, name: str, *, reason: str, actor: str, at: datetime
) -> Step6Progress:
    skipped = progress.model_copy(deep=True)
    subs = skipped.phases[SUB_STEPS[name].phase].sub_steps
    before = subs.get(name, SubStepProgress())
    subs[name] = SubStepProgress(
        status=SubStepStatus.SKIPPED,
        skip_reason=SkipReason.OPERATOR,
        skip_note=reason,
        skipped_by=actor,
        attempts=before.attempts,
        generation=before.generation,
        finished_at=at,
    )
    return skipped


def skippable(sub: SubStepProgress) -> bool:
    return sub.status == SubStepStatus.FAILED or (
        sub.status == SubStepStatus.SKIPPED and sub.skip_reason == SkipReason.DEPENDENCY_NOT_MET
    )


def standing(
    job: Job, progress: Step6Progress, at: datetime
) -> tuple[StepStatus, list[StepState], LastFailure | None]:
    """The job's status, steps and last failure after a change made without a run."""
    config = job.execution_config
    assert config is not None  # only a job past Step 5 is fixed
    failure = first_failure(progress)
    last_failure = job.last_failure
    if failure is None:
        last_failure = None
    elif last_failure is None or last_failure.sub_step != failure[1]:
        last_failure = failure_of(failure, at=at)
    if resume_point(config, progress) is not None and job.status != StepStatus.COMPLETED:
        return job.status, job.steps, last_failure
    # Step 6 has run to its end (or nothing is left): its status is what the progress says,
    # as a run that ended now would have left it.
    step6 = step6_outcome(config, progress)
    steps = [
        s.model_copy(update={"status": step6, "completed_at": at}) if s.step == 6 else s
        for s in job.steps
    ]
    return StepStatus.COMPLETED, steps, last_failure
