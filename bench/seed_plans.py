"""What the two comparison plans would re-run on resume: pure functions of the recorded progress.

- `seed_phase_level`: the seed's proposal (seed/step6-resume-requirements.md, section 5) as
  docs/architecture.md §5 makes it precise: find the first phase that is not `completed`, then run
  that whole phase and every phase after it (`executePhaseN` runs every sub-step the config
  enables; it has no sub-step level skip).
- `seed_literal`: the seed's `detectLastCompletePhase` as written: scan phase4..phase1 for the
  last phase marked `completed` and resume after it (`default`: all phases when none is, or
  when phase4 is, since its switch has no `phase4` case).
- `restart`: the old behaviour: Step 6 starts again from phase 1.

Each returns the sub-steps it would execute; `reexecuted` keeps those that had already
succeeded.
"""

from __future__ import annotations

from domain.catalogue import sub_steps_of
from domain.context import completed_outputs
from domain.resume import phase_statuses, resume_point
from state.models import PHASE_NAMES, ExecutionConfig, PhaseName, PhaseStatus, Step6Progress


def _run_phases(phases: tuple[PhaseName, ...], config: ExecutionConfig) -> list[str]:
    return [spec.name for phase in phases for spec in sub_steps_of(phase) if spec.enabled(config)]


def seed_phase_level(progress: Step6Progress, config: ExecutionConfig) -> list[str]:
    phase = resume_point(config, progress)  # the first phase not `completed`
    return [] if phase is None else _run_phases(PHASE_NAMES[PHASE_NAMES.index(phase) :], config)


def seed_literal(progress: Step6Progress, config: ExecutionConfig) -> list[str]:
    for phase in reversed(PHASE_NAMES):
        if phase_statuses(config, progress)[phase] == PhaseStatus.COMPLETED:
            index = PHASE_NAMES.index(phase)
            if index == len(PHASE_NAMES) - 1:
                break  # no `case 'phase4'`: the switch's default runs every phase
            return _run_phases(PHASE_NAMES[index + 1 :], config)
    return _run_phases(PHASE_NAMES, config)


def restart(progress: Step6Progress, config: ExecutionConfig) -> list[str]:
    return _run_phases(PHASE_NAMES, config)


def completed(progress: Step6Progress) -> set[str]:
    return set(completed_outputs(progress))


def reexecuted(plan: list[str], progress: Step6Progress) -> list[str]:
    done = completed(progress)
    return [name for name in plan if name in done]
