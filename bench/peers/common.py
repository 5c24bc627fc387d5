"""What the three implementations share: the job, the graph's rules, the sub-step call, counts.

Every implementation runs the SAME sub-step logic (`domain.catalogue.SUB_STEP_LOGIC`, looked up
at call time so the bench can count executions), with the same catalogue (phases, dependencies,
blocking rules, `provides` -> context) against the same in-memory platform simulator.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.unit.fakes import InMemoryObjectStore, InMemorySecretStore
from tests.unit.step6_runs import StartedRun, start_step6

from clients.platform import CallMeta, TransientPlatformError
from clients.simulator import PlatformSimulator
from domain import catalogue
from domain.catalogue import CATALOGUE, SUB_STEPS, sub_steps_of
from domain.readiness import ready
from domain.substeps.base import RunContext, SubStep, SubStepInput
from state.models import PHASE_NAMES, ExecutionConfig, PhaseName, Restaurant

# The retry of a transient platform error inside one sub-step, as ours does (RetryPolicy).
TRANSIENT_ATTEMPTS = 3


class BlockingFailureError(Exception):
    """A blocking sub-step failed: the job stops (each peer ends its workflow with it)."""


@dataclass
class Job:
    """A job whose Step 5 was submitted over the in-memory fakes (the same one ours runs)."""

    job_id: str
    restaurant: Restaurant
    config: ExecutionConfig
    platform: Any
    store: InMemoryObjectStore
    secrets: InMemorySecretStore
    started: StartedRun


def new_job(platform: PlatformSimulator) -> Job:
    started = start_step6()
    started.deps = started.deps.__class__(**{**vars(started.deps), "platform": platform})
    job = started.jobs.get_job(started.job_id)
    assert job.execution_config is not None
    return Job(
        job_id=job.job_id,
        restaurant=ready(job),
        config=job.execution_config,
        platform=platform,
        store=started.deps.store,  # type: ignore[arg-type]
        secrets=started.deps.secrets,  # type: ignore[arg-type]
        started=started,
    )


# ------------------------------------------------------------------ the graph's rules


def enabled(job: Job) -> list[SubStep]:
    return [spec for spec in CATALOGUE if spec.enabled(job.config)]


def phase_levels(job: Job, phase: PhaseName) -> list[list[SubStep]]:
    """A phase's enabled sub-steps in rounds: each round's sub-steps need only earlier rounds
    (what may run concurrently, as `domain.runner` starts them)."""
    specs = [s for s in sub_steps_of(phase) if s.enabled(job.config)]
    placed: dict[str, int] = {}
    for spec in specs:  # catalogue order: a dependency comes first
        in_phase = [placed[d] for d in spec.depends_on if d in placed]
        placed[spec.name] = 1 + max(in_phase, default=-1)
    levels: list[list[SubStep]] = [[] for _ in range(1 + max(placed.values(), default=-1))]
    for spec in specs:
        levels[placed[spec.name]].append(spec)
    return levels


def unmet(spec: SubStep, outcome: Mapping[str, str]) -> list[str]:
    """Dependencies that did not complete (failed or skipped): the sub-step is skipped."""
    return [d for d in spec.depends_on if outcome.get(d, "completed") != "completed"]


def context_for(spec: SubStep, outputs: Mapping[str, Mapping[str, Any]]) -> RunContext:
    """The context the sub-step reads, from completed outputs via `provides` (as ours)."""
    values: dict[str, Any] = {}
    for name, output in outputs.items():
        for context_name, key in SUB_STEPS[name].provides.items():
            values[context_name] = output.get(key)
    return RunContext(values).only(spec.reads_context + spec.may_read_context)


# ------------------------------------------------------------------ idempotency keys

_generations = itertools.count(1)
_generation_lock = threading.Lock()


def fresh_meta(job: Job, name: str) -> CallMeta:
    """Default variant: no stable key. Each attempt is a new request to the platform."""
    with _generation_lock:
        generation = next(_generations)
    return CallMeta(
        job_id=job.job_id, sub_step=name, restaurant_name=job.restaurant.name, generation=generation
    )


def stable_meta(job: Job, identity: str, name: str) -> CallMeta:
    """Guided variant: `<identity>:<sub_step>`, the same on every attempt of the step."""
    return CallMeta(job_id=identity, sub_step=name, restaurant_name=job.restaurant.name)


def call_sub_step(
    job: Job, spec: SubStep, outputs: Mapping[str, Mapping[str, Any]], meta: CallMeta
) -> dict[str, Any]:
    """One attempt of a sub-step's real logic, with transient errors retried (as ours does)."""
    for attempt in range(1, TRANSIENT_ATTEMPTS + 1):
        try:
            return catalogue.SUB_STEP_LOGIC[spec.name](
                SubStepInput(
                    job_id=job.job_id,
                    restaurant=job.restaurant,
                    config=job.config,
                    context=context_for(spec, outputs),
                    meta=meta,
                    platform=job.platform,
                    store=job.store,
                    secrets=job.secrets,
                )
            )
        except TransientPlatformError:
            if attempt == TRANSIENT_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


# ------------------------------------------------------------------ measuring


@dataclass
class Counts:
    """Sub-step logic executions, and which returned, per sub-step (wraps SUB_STEP_LOGIC)."""

    ran: Counter[str] = field(default_factory=Counter)
    returned: Counter[str] = field(default_factory=Counter)


class counting:  # noqa: N801 - used as a context manager
    """Count each sub-step logic execution while the block runs."""

    def __init__(self) -> None:
        self.counts = Counts()
        self._lock = threading.Lock()
        self._original: dict[str, Any] = {}

    def __enter__(self) -> Counts:
        self._original = dict(catalogue.SUB_STEP_LOGIC)

        def counted(name: str) -> Callable[[SubStepInput], dict[str, Any]]:
            logic = self._original[name]

            def run(inp: SubStepInput) -> dict[str, Any]:
                with self._lock:
                    self.counts.ran[name] += 1
                output = logic(inp)
                with self._lock:
                    self.counts.returned[name] += 1
                return output

            return run

        catalogue.SUB_STEP_LOGIC.update({n: counted(n) for n in self._original})
        return self.counts

    def __exit__(self, *exc: object) -> None:
        catalogue.SUB_STEP_LOGIC.update(self._original)


def duplicates(platform: PlatformSimulator, restaurant: str) -> list[str]:
    """Sub-steps whose effect took place more than once for this job's restaurant, under one
    key or several (a fork or a new execution calls under another identity)."""
    effects: Counter[str] = Counter()
    for entry in platform.ledger():
        if entry.restaurant == restaurant:
            effects[entry.sub_step] += entry.count
    return sorted(name for name, count in effects.items() if count > 1)


class DelayedPlatform:
    """The platform port with every call delayed by `latency_s` (the wall-time figure)."""

    def __init__(self, inner: Any, latency_s: float) -> None:
        self._inner = inner
        self._latency_s = latency_s
        self._lock = threading.Lock()
        self.calls = 0  # calls made through it (sub-steps may call from several threads)

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._inner, name)
        if not callable(target) or name.startswith("_"):
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                self.calls += 1
            time.sleep(self._latency_s)
            return target(*args, **kwargs)

        return call


PHASES: tuple[PhaseName, ...] = PHASE_NAMES
