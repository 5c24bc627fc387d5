"""What a phase runs, in which order, and what it skips and why: pure functions."""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.catalogue import SUB_STEPS, sub_steps_of
from domain.substeps.base import SubStep
from state.models import (
    ExecutionConfig,
    PhaseName,
    PhaseStatus,
    SkipReason,
    Step6Progress,
    SubStepProgress,
    SubStepStatus,
)


@dataclass(frozen=True)
class PhasePlan:
    phase: PhaseName
    # Sub-steps to execute, in dependency order; in-phase dependencies are in `waits_for`.
    run: tuple[str, ...]
    skip: dict[str, SkipReason] = field(default_factory=dict)
    # Already completed, or disabled and already recorded as such: nothing to do.
    done: tuple[str, ...] = ()
    waits_for: dict[str, tuple[str, ...]] = field(default_factory=dict)


def disabled_ancestor(spec: SubStep, config: ExecutionConfig) -> str | None:
    """The first dependency (direct or transitive) that config disables, if any.

    A sub-step blocked by a disabled dependency can never run: its skip is final, whereas a
    skip caused by a failed dependency is planned again on resume.
    """
    for dep in spec.depends_on:
        dep_spec = SUB_STEPS[dep]
        if not dep_spec.enabled(config):
            return dep
        inherited = disabled_ancestor(dep_spec, config)
        if inherited is not None:
            return inherited
    return None


def _status(progress: Step6Progress, spec: SubStep) -> SubStepProgress:
    phase = progress.phases.get(spec.phase)
    if phase is None or spec.name not in phase.sub_steps:
        return SubStepProgress()
    return phase.sub_steps[spec.name]


def is_settled(spec: SubStep, config: ExecutionConfig, progress: Step6Progress) -> bool:
    """True when re-running the sub-step can change nothing."""
    current = _status(progress, spec)
    if current.status == SubStepStatus.COMPLETED:
        return True
    return not spec.enabled(config) or disabled_ancestor(spec, config) is not None


def plan_phase(phase: PhaseName, config: ExecutionConfig, progress: Step6Progress) -> PhasePlan:
    run: list[str] = []
    skip: dict[str, SkipReason] = {}
    done: list[str] = []
    waits_for: dict[str, tuple[str, ...]] = {}
    for spec in sub_steps_of(phase):
        current = _status(progress, spec)
        if current.status == SubStepStatus.COMPLETED:
            done.append(spec.name)
            continue
        if not spec.enabled(config):
            if current.skip_reason == SkipReason.DISABLED:
                done.append(spec.name)
            else:
                skip[spec.name] = SkipReason.DISABLED
            continue
        if disabled_ancestor(spec, config) is not None or _earlier_dependency_unmet(spec, progress):
            skip[spec.name] = SkipReason.DEPENDENCY_NOT_MET
            continue
        in_phase = tuple(d for d in spec.depends_on if SUB_STEPS[d].phase == phase)
        if any(d in skip for d in in_phase):
            skip[spec.name] = SkipReason.DEPENDENCY_NOT_MET
            continue
        # An in-phase dependency that is already completed needs no waiting.
        waits_for[spec.name] = tuple(d for d in in_phase if d in run)
        run.append(spec.name)
    return PhasePlan(phase, tuple(run), skip, tuple(done), waits_for)


def _earlier_dependency_unmet(spec: SubStep, progress: Step6Progress) -> bool:
    return any(
        SUB_STEPS[dep].phase != spec.phase
        and _status(progress, SUB_STEPS[dep]).status != SubStepStatus.COMPLETED
        for dep in spec.depends_on
    )


def phase_status(phase: PhaseName, config: ExecutionConfig, progress: Step6Progress) -> PhaseStatus:
    """The status a phase has earned from its sub-steps' persisted results."""
    specs = sub_steps_of(phase)
    statuses = {spec.name: _status(progress, spec) for spec in specs}
    if any(statuses[s.name].status == SubStepStatus.FAILED and s.blocking for s in specs):
        return PhaseStatus.FAILED
    if all(is_settled(s, config, progress) for s in specs):
        return PhaseStatus.COMPLETED
    if any(s.status == SubStepStatus.IN_PROGRESS for s in statuses.values()):
        return PhaseStatus.IN_PROGRESS
    if all(s.status == SubStepStatus.PENDING for s in statuses.values()):
        return PhaseStatus.PENDING
    if any(
        s.status == SubStepStatus.PENDING
        or (s.status == SubStepStatus.SKIPPED and s.skip_reason is None)
        for s in statuses.values()
    ):
        return PhaseStatus.IN_PROGRESS
    return PhaseStatus.COMPLETED_WITH_ERRORS
