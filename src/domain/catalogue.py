"""The Step 6 sub-step catalogue, derived from the declarations in `domain.substeps`.

Each sub-step module declares one `SubStep` (`@sub_step` on its logic); this module discovers
them, checks that they fit together (names, phases, dependencies, context, config paths) when it
is imported, and derives what the rest of the code reads: the catalogue in order, the logic
map, the context needs and the document the page and the architecture notes are generated from.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from domain import substeps
from domain.substeps.base import STORED_AS, SubStep, SubStepLogic
from state.models import PHASE_NAMES, STEP_NAMES, ExecutionConfig, PhaseName

PHASE_TITLES: dict[PhaseName, str] = {
    "phase1": "Account, code and uploads",
    "phase2": "Registration and configuration",
    "phase3": "Option sets",
    "phase4": "Item tags",
}


def _discover() -> tuple[SubStep, ...]:
    found: list[SubStep] = []
    for module in pkgutil.iter_modules(substeps.__path__):
        if module.name == "base":
            continue
        declared = importlib.import_module(f"domain.substeps.{module.name}")
        steps = [value for value in vars(declared).values() if isinstance(value, SubStep)]
        if len(steps) != 1:
            raise TypeError(f"{declared.__name__} declares {len(steps)} sub-steps, not one")
        found.extend(steps)
    return tuple(sorted(found, key=lambda s: s.position))


def _config_path_exists(path: str) -> bool:
    model: Any = ExecutionConfig
    for part in STORED_AS.get(path, path).split("."):
        fields = getattr(model, "model_fields", {})
        if part not in fields:
            return False
        model = fields[part].annotation
    return True


def _check(catalogue: tuple[SubStep, ...]) -> None:
    """Raise on declarations that do not fit together (caught by any test that imports)."""
    names = [s.name for s in catalogue]
    by_name = {s.name: s for s in catalogue}
    problems: list[str] = []
    if len(set(names)) != len(names):
        problems.append(f"duplicate names in {names}")
    if len({s.position for s in catalogue}) != len(catalogue):
        problems.append("two sub-steps share a position")
    if [PHASE_NAMES.index(s.phase) for s in catalogue] != sorted(
        PHASE_NAMES.index(s.phase) for s in catalogue
    ):
        problems.append("positions are not in phase order")
    for spec in catalogue:
        for dep in spec.depends_on:
            if dep not in by_name:
                problems.append(f"{spec.name} depends on unknown {dep}")
            elif by_name[dep].position >= spec.position:
                problems.append(f"{spec.name} depends on {dep}, which comes later")
        for path in spec.config_fields:
            if not _config_path_exists(path):
                problems.append(f"{spec.name} reads unknown config field {path}")
        for key in spec.provides.values():
            if key not in spec.outputs:
                problems.append(f"{spec.name} provides {key}, which is not among its outputs")
        reachable = {
            context
            for ancestor in _ancestors(spec, by_name)
            for context in by_name[ancestor].provides
        }
        for context in spec.reads_context:
            if context not in reachable:
                problems.append(f"{spec.name} reads {context}, which no dependency provides")
    if problems:
        raise ValueError("sub-step declarations do not fit: " + "; ".join(problems))


def _ancestors(spec: SubStep, by_name: dict[str, SubStep]) -> set[str]:
    found: set[str] = set()
    frontier = [d for d in spec.depends_on if d in by_name]
    while frontier:
        current = frontier.pop()
        if current not in found:
            found.add(current)
            frontier.extend(d for d in by_name[current].depends_on if d in by_name)
    return found


CATALOGUE: tuple[SubStep, ...] = _discover()
_check(CATALOGUE)

SUB_STEPS: dict[str, SubStep] = {spec.name: spec for spec in CATALOGUE}
SUB_STEP_NAMES: tuple[str, ...] = tuple(SUB_STEPS)
# Looked up at call time (not captured), so a test may stand in for one sub-step's logic.
SUB_STEP_LOGIC: dict[str, SubStepLogic] = {spec.name: spec.logic for spec in CATALOGUE}
# Which context values each sub-step needs once its dependencies have completed.
CONTEXT_NEEDS: dict[str, tuple[str, ...]] = {
    spec.name: spec.reads_context for spec in CATALOGUE if spec.reads_context
}


def sub_steps_of(phase: PhaseName) -> tuple[SubStep, ...]:
    return tuple(spec for spec in CATALOGUE if spec.phase == phase)


def phase_of(sub_step: str) -> PhaseName:
    return SUB_STEPS[sub_step].phase


def dependents_of(sub_step: str) -> tuple[str, ...]:
    """Every sub-step that needs `sub_step`, directly or through others, in catalogue order."""
    return tuple(spec.name for spec in CATALOGUE if sub_step in _ancestors(spec, SUB_STEPS))


def catalogue_document() -> dict[str, Any]:
    """The catalogue as data: the page's `catalogue.gen.js` and the docs table come from it."""
    return {
        "steps": [{"step": n, "name": name} for n, name in STEP_NAMES.items()],
        "phases": [
            {"phase": phase, "number": i, "title": PHASE_TITLES[phase]}
            for i, phase in enumerate(PHASE_NAMES, start=1)
        ],
        "sub_steps": [
            {
                "name": spec.name,
                "phase": spec.phase,
                "label": spec.label,
                "blocking": spec.blocking,
                "depends_on": list(spec.depends_on),
                "runs_if": list(spec.runs_if),
                "config_fields": list(spec.config_fields),
                "rerunnable": spec.rerunnable,
            }
            for spec in CATALOGUE
        ],
    }
