"""The run context later sub-steps need, rebuilt from persisted outputs: a pure function.

The seed kept `codeGenerationFilePaths`, `onboardingUserCreated` and `menuImportSucceeded` only
in memory, so a restart lost them. Here each sub-step declares which of its output keys it
`provides` as context, and the context is rebuilt from the completed sub-steps' outputs.
"""

from __future__ import annotations

from typing import Any

from domain.catalogue import SUB_STEPS
from domain.substeps.base import RunContext
from state.models import PHASE_NAMES, Step6Progress, SubStepStatus

__all__ = ["RunContext", "completed_outputs", "reconstruct_context"]


def completed_outputs(progress: Step6Progress) -> dict[str, dict[str, Any]]:
    outputs: dict[str, dict[str, Any]] = {}
    for phase in PHASE_NAMES:
        current = progress.phases.get(phase)
        if current is None:
            continue
        for name, sub in current.sub_steps.items():
            if sub.status == SubStepStatus.COMPLETED:
                outputs[name] = sub.output or {}
    return outputs


def reconstruct_context(progress: Step6Progress) -> RunContext:
    values: dict[str, Any] = {}
    for name, output in completed_outputs(progress).items():
        for context_name, key in SUB_STEPS[name].provides.items():
            values[context_name] = output.get(key)
    return RunContext(values)
