"""The Pumpd platform simulator: in-memory, deterministic, the embedded default of the local
runtime (docs/architecture.md §9).

It behaves like a careful real API would:

- **Idempotency**: a mutating call whose idempotency key (`<job_id>:<sub_step>`) was seen
  before returns the stored result and takes no new effect. Reusing a key for a different
  operation is rejected (a permanent error), as real APIs reject a mismatched replay.
- **Ledger**: one `LedgerEntry` per distinct side effect. `count` is the times it took
  effect (stays 1 however often the same key is replayed), `calls` the times it was asked
  for (faulted calls included). Every platform object records the job it was made for (its
  external reference), so an effect repeated under another key shows up as a second entry
  for the same job and sub-step: that is how tests prove "exactly once".
- **References are checked**: registering a restaurant needs an existing account, website
  configuration an existing restaurant and code bundle, option sets and tags an existing
  menu import and item external ids from it, and so on (a permanent error otherwise).
- **Faults** on demand (`FaultSpec`), matched by sub-step and optionally by restaurant name
  and job id; each matching call consumes one of `times`:

  ============  ==================================================================
  fail          `PermanentPlatformError`, no effect
  transient     `TransientPlatformError`, no effect (a retry succeeds once used up)
  crash_before  `SimulatedCrash` before any effect (the Lambda died before the call)
  crash_after   the effect is applied and stored under the key, then `SimulatedCrash`
                (the call took effect, the Lambda died before the checkpoint)
  latency       sleeps `latency_ms`, then proceeds normally
  ============  ==================================================================

  Faults apply to the reads a sub-step makes too (`find_account`), except `crash_after`,
  which needs an effect and so only matches mutating calls. `latency_ms` given with another
  mode delays the call before the fault strikes. `set_latency(ms)` delays every call (the
  benchmark uses it).

Determinism: object ids are a hash of the idempotency key (and of the effect's sequence
number under that key), never random and independent of thread scheduling.

State: the rules live here; objects, ledger and faults live in a `PlatformState`. In memory
(`clients.simulator_memory`, behind one lock never held while sleeping) for the local runtime
and the tests, or in DynamoDB (`state.platform_sandbox`) for the sandbox a stack deploys
(`handlers.platform_sandbox`), where every call may come to another process. The rules are the
same either way: the crash matrix runs against both.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

from clients.platform import (
    CallMeta,
    MenuExtras,
    PermanentPlatformError,
    PlatformResult,
    PumpdPlatform,
    TransientPlatformError,
)

FaultMode = Literal["fail", "transient", "crash_before", "crash_after", "latency"]
FAULT_MODES: tuple[FaultMode, ...] = ("fail", "transient", "crash_before", "crash_after", "latency")

MENU_IMPORT_FORMAT = "pumpd-menu-import/v1"


class SimulatedCrash(BaseException):
    """The process running the sub-step died (a Lambda crash or timeout).

    A `BaseException`, not an `Exception`: ordinary `except Exception` / `except
    PlatformError` handlers must not swallow it, exactly as they could not catch a dying
    process. Only the local runtime (standing in for the Lambda service) catches it.
    """

    def __init__(
        self,
        message: str,
        *,
        sub_step: str = "",
        mode: FaultMode = "crash_before",
        idempotency_key: str = "",
    ) -> None:
        # Defaults keep it copyable and picklable (exceptions are rebuilt from their args).
        super().__init__(message)
        self.sub_step = sub_step
        self.mode = mode
        self.idempotency_key = idempotency_key


class FaultSpec(BaseModel):
    """A fault to inject: the body of `POST /__sim/faults` in local mode."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sub_step: str = Field(min_length=1, max_length=64)
    mode: FaultMode
    # How many matching calls the fault affects.
    times: int = Field(default=1, ge=1, le=10_000)
    # Matches CallMeta.restaurant_name exactly.
    restaurant: str | None = Field(default=None, min_length=1, max_length=200)
    job_id: str | None = Field(default=None, min_length=1, max_length=128)
    latency_ms: int | None = Field(default=None, ge=0, le=60_000)
    # A `fail` answered with the platform's own reason code (e.g. `email_taken`).
    platform_code: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]{0,63}$")

    @model_validator(mode="after")
    def _latency_needs_ms(self) -> FaultSpec:
        if self.mode == "latency" and self.latency_ms is None:
            raise ValueError("mode 'latency' needs latency_ms")
        if self.platform_code is not None and self.mode != "fail":
            raise ValueError("platform_code goes with mode 'fail' only")
        return self

    def matches(self, meta: CallMeta) -> bool:
        return (
            self.sub_step == meta.sub_step
            and (self.restaurant is None or self.restaurant == meta.restaurant_name)
            and (self.job_id is None or self.job_id == meta.job_id)
        )


class LedgerEntry(BaseModel):
    """One distinct side effect on the platform (`GET /__sim/ledger` → `effects`)."""

    model_config = ConfigDict(frozen=True)

    job_id: str
    sub_step: str
    idempotency_key: str
    operation: str
    restaurant: str
    # Times it took effect: stays 1 when repeated with the same key.
    count: int
    # Times it was asked for under this key, faulted calls included.
    calls: int
    object_id: str


class SimObject(BaseModel):
    """A platform object as the simulator holds it."""

    model_config = ConfigDict(frozen=True)

    object_id: str
    kind: str
    # The external reference: the job the object was made for.
    job_id: str
    sub_step: str
    attributes: dict[str, Any]


class Stored(BaseModel):
    """The answer stored under an idempotency key: later calls with the key get it back."""

    model_config = ConfigDict(frozen=True)

    operation: str
    result: PlatformResult


class Effect(NamedTuple):
    """What an operation does when it takes effect (computed before anything is recorded)."""

    kind: str
    attributes: dict[str, Any]
    # An account's email: unique on the platform, claimed in the same step as the effect.
    email: str | None = None
    # A menu import's item external ids, which option sets and tags must refer to.
    menu_items: frozenset[str] = frozenset()


class Change(NamedTuple):
    """What taking one effect writes, all at once: the platform object it makes, the answer
    stored under the call's key, and the effect itself (its email claim, its menu items)."""

    meta: CallMeta
    stored: Stored
    made: SimObject
    effect: Effect


class PlatformState(Protocol):
    """Where the simulator keeps its objects, ledger and faults.

    `clients.simulator_memory.InMemoryState` (one process) and
    `state.platform_sandbox.DynamoDBPlatformState` (the deployed sandbox, any number of
    processes). Each method is atomic on its own; `commit` is the one that decides a race.
    """

    def add_fault(self, spec: FaultSpec) -> None: ...

    def clear_faults(self) -> None: ...

    def faults(self) -> list[FaultSpec]: ...

    def set_latency(self, ms: int) -> None: ...

    def begin_call(self, meta: CallMeta, *, mutating: bool) -> tuple[FaultSpec | None, int]:
        """Count a mutating call under its key and consume the faults it meets (see
        `consume_faults`): the fault that strikes, and the delay in milliseconds."""
        ...

    def get_object(self, object_id: str) -> SimObject | None: ...

    def objects(self) -> list[SimObject]: ...

    def account_for(self, email: str) -> str | None:
        """The account id registered under a normalised email."""
        ...

    def menu_items(self, menu_import_id: str) -> frozenset[str]: ...

    def stored(self, key: str) -> Stored | None: ...

    def effect_count(self, key: str) -> int:
        """Times an effect was taken under the key (0 before the first)."""
        ...

    def commit(self, change: Change, *, replay: bool = False) -> Stored:
        """Take the effect: the object, the email claim, the stored answer and the ledger.

        Atomic. When another call already stored an answer under the key (it won a race), that
        answer is returned and nothing is written, unless `replay` (a simulator ignoring
        idempotency takes the effect again). An email already claimed raises
        `PermanentPlatformError` (a conflict) and nothing is written.
        """
        ...

    def ledger(self) -> list[LedgerEntry]:
        """Every distinct side effect, in the order they first took effect."""
        ...

    def reset(self) -> None: ...


def consume_faults(
    active: list[FaultSpec], meta: CallMeta, *, mutating: bool
) -> tuple[list[FaultSpec], FaultSpec | None, int]:
    """The faults left after one call (`times` counts down), the one that strikes, the delay.

    Every matching latency fault adds its delay; the first other matching fault strikes
    (`crash_after` only on a mutating call: it needs an effect), adding its `latency_ms`.
    """
    left: list[FaultSpec] = []
    strike: FaultSpec | None = None
    delay_ms = 0
    for spec in active:
        hits = spec.matches(meta) and (
            spec.mode == "latency" or (strike is None and (mutating or spec.mode != "crash_after"))
        )
        if hits:
            delay_ms += spec.latency_ms or 0
            strike = strike if spec.mode == "latency" else spec
            spec = spec.model_copy(update={"times": spec.times - 1})
        if spec.times > 0:
            left.append(spec)
    return left, strike, delay_ms


EffectOf = Callable[[str], Effect]


def _digest(text: str, length: int = 16) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


# What the platform says for the reason codes it gives (a `fail` fault may name one).
PLATFORM_REASONS = {
    "email_taken": "this email is already registered",
    "invalid_menu": "the menu is not one it can import",
    "restaurant_exists": "a restaurant with this name is already registered",
}


def email_taken(email: str) -> PermanentPlatformError:
    return PermanentPlatformError(f"an account for {email} already exists", code="email_taken")


# The operations served by one effect -> the kind of object each makes and its id prefix.
_SETTINGS = {"configure_services": ("services", "svc"), "configure_payments": ("payments", "pay")}
_ANNOTATIONS = {
    "create_option_sets": ("option_sets", "opts"),
    "add_item_tags": ("item_tags", "tags"),
}


class PlatformSimulator:
    """A `PumpdPlatform` over a `PlatformState`. See the module docstring for its behaviour."""

    def __init__(
        self,
        state: PlatformState | None = None,
        *,
        honour_idempotency: bool = True,
        check_references: bool = True,
    ):
        from clients.simulator_memory import InMemoryState

        # honour_idempotency=False makes the simulator ignore keys (every call takes effect):
        # a way to prove that a test would catch a duplicated side effect.
        self._honour_idempotency = honour_idempotency
        self._check_references = check_references
        self._state: PlatformState = state if state is not None else InMemoryState()

    # ------------------------------------------------------------ test and demo controls

    def add_fault(self, spec: FaultSpec) -> None:
        self._state.add_fault(spec)

    def clear_faults(self) -> None:
        self._state.clear_faults()

    def faults(self) -> list[FaultSpec]:
        """The faults still active, `times` being what is left of each."""
        return self._state.faults()

    def set_latency(self, ms: int) -> None:
        """Delay every call (reads included) by `ms` milliseconds; 0 turns it off."""
        if ms < 0:
            raise ValueError("latency must be >= 0 ms")
        self._state.set_latency(ms)

    def ledger(self) -> list[LedgerEntry]:
        """Every distinct side effect, in the order they first took effect."""
        return self._state.ledger()

    def effects_for(self, job_id: str) -> list[LedgerEntry]:
        return [entry for entry in self.ledger() if entry.job_id == job_id]

    def get_object(self, object_id: str) -> SimObject | None:
        return self._state.get_object(object_id)

    def objects(self, kind: str | None = None) -> list[SimObject]:
        return [o for o in self._state.objects() if kind is None or o.kind == kind]

    def reset(self) -> None:
        """Forget everything: objects, ledger, faults and latency."""
        self._state.reset()

    # ------------------------------------------------------------ the port: reads

    def find_account(self, meta: CallMeta, *, email: str) -> PlatformResult | None:
        self._before_call(meta, mutating=False)
        object_id = self._state.account_for(email.strip().lower())
        account = self._state.get_object(object_id) if object_id is not None else None
        if account is None:
            return None
        return PlatformResult(id=account.object_id, attributes=dict(account.attributes))

    # ------------------------------------------------------------ the port: mutations

    def create_account(
        self, meta: CallMeta, *, email: str, password: str, name: str
    ) -> PlatformResult:
        normalised = email.strip().lower()

        def effect(_: str) -> Effect:
            if not password:
                raise PermanentPlatformError("create_account: the password must not be empty")
            if self._state.account_for(normalised) is not None:
                raise email_taken(email)
            # The password is accepted and never kept, not even in the simulator.
            return Effect("account", {"email": normalised, "name": name}, email=normalised)

        return self._mutate(meta, "create_account", "acct", effect)

    def publish_code_bundle(
        self, meta: CallMeta, *, files: dict[str, str], checksum: str
    ) -> PlatformResult:
        def effect(_: str) -> Effect:
            if not files:
                raise PermanentPlatformError("publish_code_bundle: no files")
            if len(checksum) != 64 or any(c not in "0123456789abcdef" for c in checksum):
                raise PermanentPlatformError("publish_code_bundle: checksum is not a sha256 hex")
            return Effect(
                "code_bundle", {"files": dict(sorted(files.items())), "checksum": checksum}
            )

        return self._mutate(meta, "publish_code_bundle", "bndl", effect)

    def create_onboarding_user(self, meta: CallMeta, *, email: str, name: str) -> PlatformResult:
        def effect(_: str) -> Effect:
            return Effect("onboarding_user", {"email": email.strip().lower(), "name": name})

        return self._mutate(meta, "create_onboarding_user", "obu", effect)

    def upload_images(
        self, meta: CallMeta, *, menu_id: str, image_urls: list[str]
    ) -> PlatformResult:
        def effect(_: str) -> Effect:
            bad = [u for u in image_urls if not u.startswith(("http://", "https://"))]
            if bad:
                raise PermanentPlatformError(f"upload_images: not an http(s) URL: {bad[0]!r}")
            image_ids = {url: f"img_{_digest(f'{meta.job_id}|{url}')}" for url in image_urls}
            return Effect(
                "image_upload",
                {"menu_id": menu_id, "count": len(image_ids), "image_ids": image_ids},
            )

        return self._mutate(meta, "upload_images", "upl", effect)

    def register_restaurant(
        self,
        meta: CallMeta,
        *,
        account_id: str,
        name: str,
        phone: str | None,
        company: dict[str, Any],
    ) -> PlatformResult:
        def effect(_: str) -> Effect:
            self._expect(account_id, "account", "register_restaurant")
            return Effect(
                "restaurant",
                {"account_id": account_id, "name": name, "phone": phone, "company": dict(company)},
            )

        return self._mutate(meta, "register_restaurant", "rest", effect)

    def configure_website(
        self,
        meta: CallMeta,
        *,
        restaurant_id: str,
        code_bundle_id: str,
        head_html: str,
        body_html: str,
        css: str,
    ) -> PlatformResult:
        def effect(_: str) -> Effect:
            self._expect(restaurant_id, "restaurant", "configure_website")
            self._expect(code_bundle_id, "code_bundle", "configure_website")
            size = sum(len(part.encode()) for part in (head_html, body_html, css))
            return Effect(
                "website",
                {"restaurant_id": restaurant_id, "code_bundle_id": code_bundle_id, "bytes": size},
            )

        return self._mutate(meta, "configure_website", "site", effect)

    def configure_services(
        self, meta: CallMeta, *, restaurant_id: str, services: dict[str, Any]
    ) -> PlatformResult:
        return self._configure(meta, "configure_services", restaurant_id, services=sorted(services))

    def configure_payments(
        self, meta: CallMeta, *, restaurant_id: str, payments: dict[str, Any]
    ) -> PlatformResult:
        return self._configure(meta, "configure_payments", restaurant_id, settings=sorted(payments))

    def import_menu(
        self, meta: CallMeta, *, restaurant_id: str, menu_import: dict[str, Any]
    ) -> PlatformResult:
        def effect(_: str) -> Effect:
            self._expect(restaurant_id, "restaurant", "import_menu")
            if menu_import.get("format") != MENU_IMPORT_FORMAT:
                raise PermanentPlatformError(
                    f"import_menu: unsupported format {menu_import.get('format')!r}"
                )
            categories = menu_import.get("categories")
            if not isinstance(categories, list):
                raise PermanentPlatformError("import_menu: categories must be a list")
            item_ids = [
                str(item.get("external_id"))
                for category in categories
                for item in category.get("items", [])
            ]
            if not item_ids:
                raise PermanentPlatformError("import_menu: the menu has no items")
            if len(set(item_ids)) != len(item_ids):
                raise PermanentPlatformError("import_menu: duplicate item external ids")
            attributes = {
                "restaurant_id": restaurant_id,
                "menu_id": menu_import.get("menu_id"),
                "category_count": len(categories),
                "item_count": len(item_ids),
            }
            return Effect("menu_import", attributes, menu_items=frozenset(item_ids))

        return self._mutate(meta, "import_menu", "mnu", effect)

    def sync_onboarding_record(
        self, meta: CallMeta, *, onboarding_user_id: str, restaurant_id: str | None
    ) -> PlatformResult:
        def effect(_: str) -> Effect:
            self._expect(onboarding_user_id, "onboarding_user", "sync_onboarding_record")
            if restaurant_id is not None:
                self._expect(restaurant_id, "restaurant", "sync_onboarding_record")
            return Effect(
                "onboarding_sync",
                {"onboarding_user_id": onboarding_user_id, "restaurant_id": restaurant_id},
            )

        return self._mutate(meta, "sync_onboarding_record", "sync", effect)

    def create_option_sets(
        self, meta: CallMeta, *, restaurant_id: str, menu_import_id: str, option_sets: MenuExtras
    ) -> PlatformResult:
        return self._annotate(
            meta, "create_option_sets", restaurant_id, menu_import_id, option_sets
        )

    def add_item_tags(
        self, meta: CallMeta, *, restaurant_id: str, menu_import_id: str, item_tags: MenuExtras
    ) -> PlatformResult:
        return self._annotate(meta, "add_item_tags", restaurant_id, menu_import_id, item_tags)

    # ------------------------------------------------------------ machinery

    def _before_call(self, meta: CallMeta, *, mutating: bool) -> FaultSpec | None:
        """Count the call, consume matching faults, sleep, raise what must be raised.

        Returns a `crash_after` fault for the caller to raise once the effect is applied.
        """
        key = meta.idempotency_key
        strike, delay_ms = self._state.begin_call(meta, mutating=mutating)
        if delay_ms:
            time.sleep(delay_ms / 1000)
        if strike is None or strike.mode == "crash_after":
            return strike
        message = f"simulated {strike.mode} of {meta.sub_step}"
        if strike.mode == "fail":
            code = strike.platform_code
            raise PermanentPlatformError(PLATFORM_REASONS.get(code or "", message), code=code)
        if strike.mode == "transient":
            raise TransientPlatformError(message)
        raise SimulatedCrash(message, sub_step=meta.sub_step, mode=strike.mode, idempotency_key=key)

    def _mutate(
        self, meta: CallMeta, operation: str, prefix: str, effect_of: EffectOf
    ) -> PlatformResult:
        strike = self._before_call(meta, mutating=True)
        key = meta.idempotency_key
        stored = self._state.stored(key) if self._honour_idempotency else None
        if stored is None:
            sequence = self._state.effect_count(key)
            object_id = f"{prefix}_{_digest(f'{key}#{sequence}')}"
            # Validation inside `effect_of` raises before anything is recorded: no effect.
            effect = effect_of(object_id)
            attributes = {**effect.attributes, "external_reference": meta.job_id}
            made = SimObject(
                object_id=object_id,
                kind=effect.kind,
                job_id=meta.job_id,
                sub_step=meta.sub_step,
                attributes=attributes,
            )
            answer = Stored(
                operation=operation, result=PlatformResult(id=object_id, attributes=attributes)
            )
            change = Change(meta, answer, made, effect)
            stored = self._state.commit(change, replay=not self._honour_idempotency)
        if stored.operation != operation:
            raise PermanentPlatformError(
                f"{operation}: its idempotency key was used for {stored.operation}"
            )
        if strike is not None:
            raise SimulatedCrash(
                f"simulated crash after {operation} of {meta.sub_step} (key {key})",
                sub_step=meta.sub_step,
                mode="crash_after",
                idempotency_key=key,
            )
        return stored.result

    def _configure(
        self, meta: CallMeta, operation: str, restaurant_id: str, **settings: list[str]
    ) -> PlatformResult:
        """Settings of a registered restaurant (its services, its payments)."""
        kind, prefix = _SETTINGS[operation]

        def effect(_: str) -> Effect:
            self._expect(restaurant_id, "restaurant", operation)
            return Effect(kind, {"restaurant_id": restaurant_id, **settings})

        return self._mutate(meta, operation, prefix, effect)

    def _annotate(
        self,
        meta: CallMeta,
        operation: str,
        restaurant_id: str,
        menu_import_id: str,
        extras: MenuExtras,
    ) -> PlatformResult:
        """Option sets or item tags, added to items of the restaurant's menu import."""
        kind, prefix = _ANNOTATIONS[operation]

        def effect(_: str) -> Effect:
            self._expect_menu_items(
                operation,
                restaurant_id,
                menu_import_id,
                [i for extra in extras for i in extra.get("item_external_ids", [])],
            )
            attributes = {
                "restaurant_id": restaurant_id,
                "menu_import_id": menu_import_id,
                "count": len(extras),
            }
            return Effect(kind, attributes)

        return self._mutate(meta, operation, prefix, effect)

    def _expect(self, object_id: str, kind: str, operation: str) -> None:
        if not self._check_references:
            return
        found = self._state.get_object(object_id)
        if found is None or found.kind != kind:
            raise PermanentPlatformError(f"{operation}: not found (404): no such {kind}")

    def _expect_menu_items(
        self, operation: str, restaurant_id: str, menu_import_id: str, item_ids: list[str]
    ) -> None:
        self._expect(restaurant_id, "restaurant", operation)
        self._expect(menu_import_id, "menu_import", operation)
        if not self._check_references:
            return
        imported = self._state.get_object(menu_import_id)
        assert imported is not None  # checked just above; objects are never removed
        if imported.attributes.get("restaurant_id") != restaurant_id:
            raise PermanentPlatformError(
                f"{operation}: menu import {menu_import_id} belongs to another restaurant"
            )
        unknown = sorted(set(item_ids) - self._state.menu_items(menu_import_id))
        if unknown:
            raise PermanentPlatformError(
                f"{operation}: unknown item external ids {unknown[:5]} in {menu_import_id}"
            )


_SHARED = PlatformSimulator()


def shared_simulator() -> PlatformSimulator:
    """The process-wide simulator (the local runtime and the local HTTP server share it)."""
    return _SHARED


if TYPE_CHECKING:
    # mypy proves the simulator implements the port.
    _port_check: PumpdPlatform = PlatformSimulator()
