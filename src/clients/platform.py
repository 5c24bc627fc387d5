"""The Pumpd platform port: one method per platform operation.

The platform has no public API. Sub-steps talk to this Protocol; two adapters implement it:
`clients.http_platform.HttpPlatform` (the contract a real automation service implements) and
`clients.simulator.PlatformSimulator` (in-memory, deterministic, the embedded default).

Every mutating call carries an idempotency key `<job_id>:<sub_step>` (`<job_id>:<sub_step>:<n>`
for an operator's n-th re-run): calling again with the same key returns the first result and
takes no second effect. `job_id` is the platform
object's external reference, so an effect repeated under another key is still attributable.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field


class PlatformError(Exception):
    """A platform call failed."""


class TransientPlatformError(PlatformError):
    """Timeout, 5xx or throttling: worth retrying with backoff."""


class PermanentPlatformError(PlatformError):
    """4xx or validation: retrying cannot help.

    `code` is the platform's own machine-readable reason when it gives one (e.g.
    `email_taken`); the message is the platform's words, without keys or ids.
    """

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class CallMeta(BaseModel):
    """What every platform call carries."""

    model_config = ConfigDict(frozen=True)

    job_id: str
    sub_step: str
    restaurant_name: str
    # An operator's re-run asks for the effect once more: a new generation, a new key.
    generation: int = 0

    @property
    def idempotency_key(self) -> str:
        base = f"{self.job_id}:{self.sub_step}"
        return f"{base}:{self.generation}" if self.generation else base


class PlatformResult(BaseModel):
    """A platform object: its id and the attributes the platform returned."""

    model_config = ConfigDict(frozen=True)

    id: str
    attributes: dict[str, Any] = Field(default_factory=dict)


# Option sets or item tags for an imported menu: each names the `item_external_ids` it applies to.
MenuExtras = list[dict[str, Any]]


class PumpdPlatform(Protocol):
    def find_account(self, meta: CallMeta, *, email: str) -> PlatformResult | None: ...

    def create_account(
        self, meta: CallMeta, *, email: str, password: str, name: str
    ) -> PlatformResult: ...

    def publish_code_bundle(
        self, meta: CallMeta, *, files: dict[str, str], checksum: str
    ) -> PlatformResult: ...

    def create_onboarding_user(
        self, meta: CallMeta, *, email: str, name: str
    ) -> PlatformResult: ...

    def upload_images(
        self, meta: CallMeta, *, menu_id: str, image_urls: list[str]
    ) -> PlatformResult: ...

    def register_restaurant(
        self,
        meta: CallMeta,
        *,
        account_id: str,
        name: str,
        phone: str | None,
        company: dict[str, Any],
    ) -> PlatformResult: ...

    def configure_website(
        self,
        meta: CallMeta,
        *,
        restaurant_id: str,
        code_bundle_id: str,
        head_html: str,
        body_html: str,
        css: str,
    ) -> PlatformResult: ...

    def configure_services(
        self, meta: CallMeta, *, restaurant_id: str, services: dict[str, Any]
    ) -> PlatformResult: ...

    def configure_payments(
        self, meta: CallMeta, *, restaurant_id: str, payments: dict[str, Any]
    ) -> PlatformResult: ...

    def import_menu(
        self, meta: CallMeta, *, restaurant_id: str, menu_import: dict[str, Any]
    ) -> PlatformResult: ...

    def sync_onboarding_record(
        self, meta: CallMeta, *, onboarding_user_id: str, restaurant_id: str | None
    ) -> PlatformResult: ...

    def create_option_sets(
        self, meta: CallMeta, *, restaurant_id: str, menu_import_id: str, option_sets: MenuExtras
    ) -> PlatformResult: ...

    def add_item_tags(
        self, meta: CallMeta, *, restaurant_id: str, menu_import_id: str, item_tags: MenuExtras
    ) -> PlatformResult: ...


# Each mutating operation of the port -> its keyword arguments (the body of its POST in the HTTP
# contract). `OperationsByName` implements the operations from it; a test checks it against the
# signatures of `PumpdPlatform`.
OPERATIONS: dict[str, tuple[str, ...]] = {
    "create_account": ("email", "password", "name"),
    "publish_code_bundle": ("files", "checksum"),
    "create_onboarding_user": ("email", "name"),
    "upload_images": ("menu_id", "image_urls"),
    "register_restaurant": ("account_id", "name", "phone", "company"),
    "configure_website": ("restaurant_id", "code_bundle_id", "head_html", "body_html", "css"),
    "configure_services": ("restaurant_id", "services"),
    "configure_payments": ("restaurant_id", "payments"),
    "import_menu": ("restaurant_id", "menu_import"),
    "sync_onboarding_record": ("onboarding_user_id", "restaurant_id"),
    "create_option_sets": ("restaurant_id", "menu_import_id", "option_sets"),
    "add_item_tags": ("restaurant_id", "menu_import_id", "item_tags"),
}


class OperationsByName(ABC):
    """The port's mutating operations for an adapter that treats them all alike.

    `platform.import_menu(meta, **params)` is `platform.perform(meta, "import_menu", params)`,
    once the keyword arguments are checked against `OPERATIONS`. The adapter implements
    `perform` and `find_account` (the one read).
    """

    @abstractmethod
    def perform(self, meta: CallMeta, operation: str, params: dict[str, Any]) -> PlatformResult:
        """Carry out one mutating operation, `params` being its keyword arguments."""

    def __getattr__(self, operation: str) -> Callable[..., PlatformResult]:
        # Only reached for a name the class does not define: every other one is not ours.
        expected = OPERATIONS.get(operation)
        if expected is None:
            raise AttributeError(f"{type(self).__name__} has no attribute {operation!r}")

        def call(meta: CallMeta, **params: Any) -> PlatformResult:
            if set(params) != set(expected):
                raise TypeError(f"{operation}() takes the keyword arguments {', '.join(expected)}")
            return self.perform(meta, operation, params)

        call.__name__ = operation
        return call
