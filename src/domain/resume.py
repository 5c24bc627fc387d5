"""Where a job stands in Step 6, derived from its sub-steps' progress: pure functions.

Phase status, the resume point, the current and the last completed phase are never stored:
they follow from the persisted sub-step progress and the execution config, so they cannot
disagree with it. (`resume_point` is the seed's detectLastCompletePhase, made precise.)
"""

from __future__ import annotations

from collections.abc import Mapping

from domain.planner import phase_status
from state.models import (
    PHASE_NAMES,
    ExecutionConfig,
    PhaseName,
    PhaseStatus,
    Step6Progress,
    SubStepStatus,
)


def phase_statuses(
    config: ExecutionConfig | None, progress: Step6Progress
) -> dict[PhaseName, PhaseStatus]:
    """Each phase's status; before Step 5 (no config) every phase is pending."""
    if config is None:
        return dict.fromkeys(PHASE_NAMES, PhaseStatus.PENDING)
    return {phase: phase_status(phase, config, progress) for phase in PHASE_NAMES}


def resume_point(config: ExecutionConfig | None, progress: Step6Progress) -> PhaseName | None:
    """The first phase whose status is not `completed`; None when every phase is."""
    return first_not_completed(phase_statuses(config, progress))


def last_completed_phase(
    config: ExecutionConfig | None, progress: Step6Progress
) -> PhaseName | None:
    """The last phase of the unbroken run of completed phases from phase 1."""
    return last_completed(phase_statuses(config, progress))


def first_not_completed(statuses: Mapping[PhaseName, PhaseStatus]) -> PhaseName | None:
    return next((p for p in PHASE_NAMES if statuses[p] != PhaseStatus.COMPLETED), None)


def last_completed(statuses: Mapping[PhaseName, PhaseStatus]) -> PhaseName | None:
    point = first_not_completed(statuses)
    index = len(PHASE_NAMES) if point is None else PHASE_NAMES.index(point)
    return PHASE_NAMES[index - 1] if index else None


def current_phase(progress: Step6Progress) -> PhaseName | None:
    """The furthest phase with any sub-step activity (running, finished or skipped)."""
    current: PhaseName | None = None
    for phase in PHASE_NAMES:
        subs = progress.phases.get(phase)
        if subs and any(s.status != SubStepStatus.PENDING for s in subs.sub_steps.values()):
            current = phase
    return current
