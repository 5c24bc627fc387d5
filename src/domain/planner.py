"""What a phase runs, in which order, and what it skips and why: pure functions."""

from __future__ import annotations

from collections.abc import Mapping
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
    # For each `dependency_not_met` skip: the dependencies that are not completed.
    blocked_by: dict[str, tuple[str, ...]] = field(default_factory=dict)
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


def final_blocker(spec: SubStep, config: ExecutionConfig, progress: Step6Progress) -> str | None:
    """The first dependency (direct or transitive) that will never complete: disabled by the
    config, or skipped by an operator. Its dependents' skips are final too."""
    for dep in spec.depends_on:
        dep_spec = SUB_STEPS[dep]
        if not dep_spec.enabled(config) or _operator_skipped(progress, dep_spec):
            return dep
        inherited = final_blocker(dep_spec, config, progress)
        if inherited is not None:
            return inherited
    return None


def _operator_skipped(progress: Step6Progress, spec: SubStep) -> bool:
    return _status(progress, spec).skip_reason == SkipReason.OPERATOR


def _status(progress: Step6Progress, spec: SubStep) -> SubStepProgress:
    phase = progress.phases.get(spec.phase)
    if phase is None or spec.name not in phase.sub_steps:
        return SubStepProgress()
    return phase.sub_steps[spec.name]


def is_settled(spec: SubStep, config: ExecutionConfig, progress: Step6Progress) -> bool:
    """True when re-running the sub-step can change nothing."""
    current = _status(progress, spec)
    if current.status == SubStepStatus.COMPLETED or current.skip_reason == SkipReason.OPERATOR:
        return True
    return not spec.enabled(config) or final_blocker(spec, config, progress) is not None


def plan_phase(phase: PhaseName, config: ExecutionConfig, progress: Step6Progress) -> PhasePlan:
    run: list[str] = []
    skip: dict[str, SkipReason] = {}
    blocked_by: dict[str, tuple[str, ...]] = {}
    done: list[str] = []
    waits_for: dict[str, tuple[str, ...]] = {}
    for spec in sub_steps_of(phase):
        current = _status(progress, spec)
        if current.status == SubStepStatus.COMPLETED or current.skip_reason == SkipReason.OPERATOR:
            done.append(spec.name)
            continue
        if not spec.enabled(config):
            if current.skip_reason == SkipReason.DISABLED:
                done.append(spec.name)
            else:
                skip[spec.name] = SkipReason.DISABLED
            continue
        unmet = _unmet_dependencies(spec, config, progress, skip)
        if unmet:
            skip[spec.name] = SkipReason.DEPENDENCY_NOT_MET
            blocked_by[spec.name] = unmet
            continue
        in_phase = tuple(d for d in spec.depends_on if SUB_STEPS[d].phase == phase)
        # An in-phase dependency that is already completed needs no waiting.
        waits_for[spec.name] = tuple(d for d in in_phase if d in run)
        run.append(spec.name)
    return PhasePlan(
        phase, tuple(run), skip, done=tuple(done), waits_for=waits_for, blocked_by=blocked_by
    )


def _unmet_dependencies(
    spec: SubStep,
    config: ExecutionConfig,
    progress: Step6Progress,
    skipped_now: Mapping[str, SkipReason],
) -> tuple[str, ...]:
    """The direct dependencies that stop `spec` from running in this plan: one that will never
    complete (or depends on one that will not), one of an earlier phase that is not completed,
    or one of this phase that this plan skips."""
    unmet = []
    for dep in spec.depends_on:
        dep_spec = SUB_STEPS[dep]
        never = (
            not dep_spec.enabled(config)
            or _operator_skipped(progress, dep_spec)
            or final_blocker(dep_spec, config, progress) is not None
        )
        earlier = dep_spec.phase != spec.phase
        if (
            never
            or (earlier and _status(progress, dep_spec).status != SubStepStatus.COMPLETED)
            or (not earlier and dep in skipped_now)
        ):
            unmet.append(dep)
    return tuple(unmet)


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
