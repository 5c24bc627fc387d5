"""Where a resume starts: the seed's detectLastCompletePhase, made precise."""

from __future__ import annotations

from state.models import PHASE_NAMES, PhaseName, PhaseStatus, Step6Progress


def resume_point(progress: Step6Progress) -> PhaseName | None:
    """The first phase whose status is not `completed`; None when every phase is."""
    for phase in PHASE_NAMES:
        current = progress.phases.get(phase)
        if current is None or current.status != PhaseStatus.COMPLETED:
            return phase
    return None


def last_completed_phase(progress: Step6Progress) -> PhaseName | None:
    """The last phase of the unbroken run of completed phases from phase 1."""
    last: PhaseName | None = None
    for phase in PHASE_NAMES:
        current = progress.phases.get(phase)
        if current is None or current.status != PhaseStatus.COMPLETED:
            break
        last = phase
    return last
