"""In-memory fakes of the storage and secret ports, and factories for sub-step inputs."""

from __future__ import annotations

import threading
from typing import Any

from clients.platform import CallMeta, PumpdPlatform
from domain.context import RunContext
from domain.substeps.base import SubStepInput
from state.models import ExecutionConfig, Restaurant


class InMemoryObjectStore:
    """`ObjectStore` in a dict: key → (text, content type)."""

    def __init__(self) -> None:
        self.objects: dict[str, tuple[str, str]] = {}
        self.puts = 0
        self._lock = threading.Lock()

    def put_text(self, key: str, text: str, content_type: str) -> None:
        with self._lock:
            self.objects[key] = (text, content_type)
            self.puts += 1

    def get_text(self, key: str) -> str:
        with self._lock:
            if key not in self.objects:
                raise KeyError(f"no object {key!r}")
            return self.objects[key][0]


class InMemorySecretStore:
    """`SecretStore` in a dict; `reads` and `deletes` record every reference asked for."""

    def __init__(self) -> None:
        self.secrets: dict[str, str] = {}
        self.reads: list[str] = []
        self.deletes: list[str] = []

    def put_password(self, job_id: str, password: str) -> str:
        ref = f"secret://jobs/{job_id}/account-password"
        self.secrets[ref] = password
        return ref

    def get_password(self, ref: str) -> str:
        self.reads.append(ref)
        if ref not in self.secrets:
            raise KeyError(f"no secret {ref!r}")
        return self.secrets[ref]

    def delete_password(self, ref: str) -> None:
        self.deletes.append(ref)
        self.secrets.pop(ref, None)  # one already gone counts as deleted


def restaurant_data(name: str = "Cafe Aroha", **overrides: Any) -> dict[str, Any]:
    slug = name.lower().replace(" ", "-")
    data: dict[str, Any] = {
        "name": name,
        "email": f"owner@{slug}.example",
        "phone": "+64 4 555 0101",
        "branding": {
            "primary_color": "#1a73e8",
            "secondary_color": "#ffffff",
            "logo_url": f"https://{slug}.example/logo.png",
            "font": "Inter",
        },
        "menu": {
            "menu_id": f"m-{slug}-1",
            "categories": [
                {
                    "name": "Coffee",
                    "items": [
                        {
                            "name": "Flat white",
                            "price": 5.5,
                            "image_url": f"https://{slug}.example/fw.jpg",
                            "option_sets": [
                                {"name": "Milk", "options": [{"name": "Oat", "price": 0.8}]}
                            ],
                            "tags": ["vegan-option", " Hot "],
                        },
                        {
                            "name": "Latte",
                            "price": 6,
                            "image_url": f"https://{slug}.example/latte.jpg",
                            "option_sets": [
                                {"name": "Milk", "options": [{"name": "Oat", "price": 0.8}]}
                            ],
                            "tags": ["hot"],
                        },
                    ],
                },
                {
                    "name": "Food",
                    "items": [
                        {
                            "name": "Mince pie",
                            "price": 7.25,
                            "image_url": f"https://{slug}.example/fw.jpg",
                        }
                    ],
                },
            ],
        },
        "company": {"name": f"{name} Limited", "number": "1234567"},
    }
    data.update(overrides)
    return data


def make_restaurant(name: str = "Cafe Aroha", **overrides: Any) -> Restaurant:
    return Restaurant.model_validate(restaurant_data(name, **overrides))


def make_config(
    restaurant: Restaurant,
    *,
    register_new_user: bool = True,
    password_ref: str | None = "secret://jobs/job-1/account-password",
) -> ExecutionConfig:
    return ExecutionConfig.model_validate(
        {
            "account": {
                "registerNewUser": register_new_user,
                "email": str(restaurant.email),
                "password_secret_ref": password_ref,
            },
            "menu": {
                "selectedMenuId": restaurant.menu.menu_id,
                "uploadImages": True,
                "addOptionSets": True,
                "addItemTags": True,
            },
            "onboarding": {"createOnboardingUser": True, "syncOnboardingRecord": True},
        }
    )


def make_meta(
    job_id: str = "job-1", sub_step: str = "cloudwaitressAccount", restaurant: str = "Cafe Aroha"
) -> CallMeta:
    return CallMeta(job_id=job_id, sub_step=sub_step, restaurant_name=restaurant)


def make_input(
    sub_step: str,
    *,
    platform: PumpdPlatform,
    store: InMemoryObjectStore,
    secrets: InMemorySecretStore,
    restaurant: Restaurant | None = None,
    config: ExecutionConfig | None = None,
    context: RunContext | None = None,
    job_id: str = "job-1",
) -> SubStepInput:
    restaurant = restaurant or make_restaurant()
    return SubStepInput(
        job_id=job_id,
        restaurant=restaurant,
        config=config or make_config(restaurant),
        context=context or RunContext(),
        meta=make_meta(job_id, sub_step, restaurant.name),
        platform=platform,
        store=store,
        secrets=secrets,
    )
