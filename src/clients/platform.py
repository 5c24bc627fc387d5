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
        self,
        meta: CallMeta,
        *,
        restaurant_id: str,
        menu_import_id: str,
        option_sets: list[dict[str, Any]],
    ) -> PlatformResult: ...

    def add_item_tags(
        self,
        meta: CallMeta,
        *,
        restaurant_id: str,
        menu_import_id: str,
        item_tags: list[dict[str, Any]],
    ) -> PlatformResult: ...
