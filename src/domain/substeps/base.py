"""What a sub-step declares about itself, and what its logic receives.

Each sub-step is declared once, in its own module of this package, by `@sub_step(…)` on its
logic function: everything else (the catalogue, the logic map, the context needs, the page's
catalogue, the table in docs/architecture.md) is derived from these declarations by
`domain.catalogue`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from clients.platform import CallMeta, PermanentPlatformError, PumpdPlatform
from clients.secrets import SecretStore
from clients.storage import ObjectStore
from state.models import ExecutionConfig, PhaseName, Restaurant


class MissingContextError(RuntimeError):
    """A sub-step ran without a context value it declares (a planner bug, never expected)."""


class InvalidInputError(PermanentPlatformError):
    """The job's own data cannot be processed (e.g. an empty menu to import).

    A `PermanentPlatformError`, so that retrying is never attempted: the data must change.
    """


class RunContext:
    """Named values that later sub-steps read, rebuilt from persisted outputs (never memory)."""

    def __init__(self, values: Mapping[str, Any] | None = None) -> None:
        self._values = {k: v for k, v in (values or {}).items() if v is not None}

    def get(self, name: str) -> Any:
        return self._values.get(name)

    def require(self, name: str) -> Any:
        value = self._values.get(name)
        if value is None:
            raise MissingContextError(f"{name} is missing from the reconstructed context")
        return value

    def only(self, names: tuple[str, ...]) -> RunContext:
        """The values a sub-step declares it reads, and nothing else."""
        return RunContext({n: v for n, v in self._values.items() if n in names})

    def as_dict(self) -> dict[str, Any]:
        return dict(self._values)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RunContext) and other._values == self._values

    def __repr__(self) -> str:
        return f"RunContext({self._values!r})"


@dataclass(frozen=True)
class SubStepInput:
    job_id: str
    restaurant: Restaurant
    config: ExecutionConfig
    # Only the values the sub-step declares in `reads_context` / `may_read_context`.
    context: RunContext
    meta: CallMeta
    platform: PumpdPlatform
    store: ObjectStore
    secrets: SecretStore


# A sub-step returns its output: small, JSON-serialisable, persisted with its completion.
SubStepLogic = Callable[[SubStepInput], dict[str, Any]]


@dataclass(frozen=True)
class Entry:
    """A sub-step's entry in the catalogue: where it stands and how its failures are treated."""

    phase: PhaseName
    # Its place in the catalogue: the order of the table, the plan and the page.
    position: int
    label: str
    # A blocking sub-step's failure stops the job; a non-blocking one is recorded.
    blocking: bool
    # May an operator run it again once completed (it sets state rather than creating a
    # unique object)? A re-run uses a new idempotency key generation.
    rerunnable: bool


@dataclass(frozen=True)
class Needs:
    """What a sub-step needs to run, and what it reads."""

    # Sub-steps that must have completed first (same or earlier phase).
    depends_on: tuple[str, ...] = ()
    # Config paths that must all be truthy for it to run, besides `steps_enabled`.
    runs_if: tuple[str, ...] = ()
    # Other config fields its logic reads (the Step 5 shape: `account.password`, …).
    reads_config: tuple[str, ...] = ()
    # Context values it needs (provided by its dependencies) and may use when present.
    reads_context: tuple[str, ...] = ()
    may_read_context: tuple[str, ...] = ()


@dataclass(frozen=True, init=False)
class Output:
    """The keys of a sub-step's output, and which of them later sub-steps read as context."""

    outputs: tuple[str, ...]
    provides: Mapping[str, str]  # context name -> output key

    def __init__(self, *outputs: str, provides: tuple[str, ...] | Mapping[str, str] = ()) -> None:
        """`provides`: the output keys read as context under their own name, or a mapping
        from context name to output key where the context calls one otherwise."""
        object.__setattr__(self, "outputs", outputs)
        renamed = provides if isinstance(provides, Mapping) else {k: k for k in provides}
        object.__setattr__(self, "provides", dict(renamed))


@dataclass(frozen=True, eq=False)
class SubStep:
    """One sub-step of Step 6, declared once (with `sub_step`): its name and logic, and the
    fields of its `Entry`, `Needs` and `Output`, which say what each means."""

    name: str
    position: int
    label: str
    phase: PhaseName
    blocking: bool
    logic: SubStepLogic
    depends_on: tuple[str, ...]
    runs_if: tuple[str, ...]
    reads_config: tuple[str, ...]
    reads_context: tuple[str, ...]
    may_read_context: tuple[str, ...]
    outputs: tuple[str, ...]
    provides: Mapping[str, str]
    rerunnable: bool

    @property
    def config_fields(self) -> tuple[str, ...]:
        """Every config field the sub-step depends on, besides its own `steps_enabled` switch."""
        return tuple(dict.fromkeys(self.runs_if + self.reads_config))

    @property
    def runs_if_text(self) -> str:
        return " and ".join(("steps_enabled", *self.runs_if))

    def enabled(self, config: ExecutionConfig) -> bool:
        return config.steps_enabled.get(self.name, True) and all(
            config_value(config, path) for path in self.runs_if
        )


# A config path as declared (the Step 5 shape) -> where the stored config keeps it.
STORED_AS = {"account.password": "account.password_secret_ref"}


def config_value(config: ExecutionConfig, path: str) -> Any:
    value: Any = config
    for part in STORED_AS.get(path, path).split("."):
        value = getattr(value, part)
    return value


def sub_step(
    entry: Entry, needs: Needs | None = None, output: Output | None = None
) -> Callable[[SubStepLogic], SubStep]:
    """Declare the decorated logic function as a sub-step, named after it in camelCase
    (`menu_import` -> `menuImport`, the name the config, the plan and the page use)."""
    needs = needs or Needs()
    output = output or Output()

    def declare(logic: SubStepLogic) -> SubStep:
        first, *rest = logic.__name__.split("_")
        name = first + "".join(word.capitalize() for word in rest)
        # The groups' fields are the sub-step's own (a mismatch fails at import, in `SubStep`).
        return SubStep(name=name, logic=logic, **vars(entry), **vars(needs), **vars(output))

    return declare


def imported_menu(inp: SubStepInput) -> dict[str, Any]:
    """Where the menu's extras go: the restaurant and its imported menu (phases 3 and 4)."""
    return {
        "restaurant_id": inp.context.require("restaurant_id"),
        "menu_import_id": inp.context.require("menu_import_id"),
    }


def generated_prefix(job_id: str) -> str:
    """Where a job's generated files live in the object store."""
    return f"generated/{job_id}"
