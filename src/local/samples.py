"""Sample restaurants and Step 5 configurations for the demo, the local server and tests."""

from __future__ import annotations

from typing import Any

RESTAURANT_NAMES = ["Cafe Aroha", "Kai Kitchen", "Harbour Dumplings", "Te Aro Tacos", "Moana Pies"]


def slug(name: str) -> str:
    return name.lower().replace(" ", "-")


def restaurant_data(name: str = "Cafe Aroha", **overrides: Any) -> dict[str, Any]:
    """A restaurant as Steps 1-4 would have extracted it."""
    s = slug(name)
    data: dict[str, Any] = {
        "name": name,
        "email": f"owner@{s}.example",
        "phone": "+64 4 555 0101",
        "branding": {
            "primary_color": "#1a73e8",
            "secondary_color": "#ffffff",
            "logo_url": f"https://{s}.example/logo.png",
            "font": "Inter",
        },
        "menu": {
            "menu_id": f"m-{s}-1",
            "categories": [
                {
                    "name": "Coffee",
                    "items": [
                        {
                            "name": "Flat white",
                            "price": 5.5,
                            "image_url": f"https://{s}.example/fw.jpg",
                            "option_sets": [
                                {"name": "Milk", "options": [{"name": "Oat", "price": 0.8}]}
                            ],
                            "tags": ["vegan-option"],
                        },
                        {"name": "Long black", "price": 4.5, "tags": ["Vegan"]},
                    ],
                },
                {"name": "Food", "items": [{"name": "Mince pie", "price": 7.0}]},
            ],
        },
        "company": {"name": f"{name} Limited", "number": "1234567"},
    }
    data.update(overrides)
    return data


def config_data(restaurant: str = "Cafe Aroha", **overrides: Any) -> dict[str, Any]:
    """A Step 5 (Yolo Mode) execution config with everything switched on."""
    s = slug(restaurant)
    data: dict[str, Any] = {
        "account": {
            "registerNewUser": True,
            "email": f"owner@{s}.example",
            "password": "S3cure-pass-123",
        },
        "menu": {
            "selectedMenuId": f"m-{s}-1",
            "uploadImages": True,
            "addOptionSets": True,
            "addItemTags": True,
        },
        "onboarding": {"createOnboardingUser": True, "syncOnboardingRecord": True},
        "steps_enabled": {},
    }
    data.update(overrides)
    return data
