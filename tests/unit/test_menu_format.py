"""The menu in the platform import format; option sets and tags derived from it."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.menu_format import (
    MENU_IMPORT_FORMAT,
    derive_item_tags,
    derive_option_sets,
    image_urls,
    item_external_ids,
    normalise_tag,
    price_cents,
    slugify,
    to_menu_import,
)
from state.fields import refused_character
from state.models import Menu
from tests.unit.fakes import make_restaurant


def item(name: str, price: float = 1.0, **extra: Any) -> dict[str, Any]:
    return {"name": name, "price": price, **extra}


def menu(*categories: tuple[str, list[dict[str, Any]]], menu_id: str = "m-1") -> Menu:
    return Menu.model_validate(
        {"menu_id": menu_id, "categories": [{"name": n, "items": i} for n, i in categories]}
    )


def milk(*options: tuple[str, float], required: bool = False) -> dict[str, Any]:
    return {
        "name": "Milk",
        "required": required,
        "options": [{"name": n, "price": p} for n, p in options],
    }


# ------------------------------------------------------------------ import document


def test_the_sample_menu_converts_to_the_import_format() -> None:
    document = to_menu_import(make_restaurant().menu)
    assert document == {
        "menu_id": "m-cafe-aroha-1",
        "format": MENU_IMPORT_FORMAT,
        "categories": [
            {
                "external_id": "coffee",
                "name": "Coffee",
                "position": 0,
                "items": [
                    {
                        "external_id": "coffee.flat-white",
                        "name": "Flat white",
                        "description": "",
                        "price_cents": 550,
                        "image_url": "https://cafe-aroha.example/fw.jpg",
                        "position": 0,
                    },
                    {
                        "external_id": "coffee.latte",
                        "name": "Latte",
                        "description": "",
                        "price_cents": 600,
                        "image_url": "https://cafe-aroha.example/latte.jpg",
                        "position": 1,
                    },
                ],
            },
            {
                "external_id": "food",
                "name": "Food",
                "position": 1,
                "items": [
                    {
                        "external_id": "food.mince-pie",
                        "name": "Mince pie",
                        "description": "",
                        "price_cents": 725,
                        "image_url": "https://cafe-aroha.example/fw.jpg",
                        "position": 0,
                    }
                ],
            },
        ],
    }


@pytest.mark.parametrize(
    ("price", "cents"),
    [
        pytest.param(5.5, 550, id="half"),
        pytest.param(0, 0, id="zero"),
        pytest.param(0.285, 29, id="half-up-not-banker"),
        pytest.param(0.125, 13, id="half-up-again"),
        pytest.param(1.005, 101, id="float-noise"),
        pytest.param(19.99, 1999, id="typical"),
        pytest.param(100_000, 10_000_000, id="max"),
    ],
)
def test_prices_become_integer_cents_rounded_half_up(price: float, cents: int) -> None:
    assert price_cents(price) == cents
    assert isinstance(price_cents(price), int)


def test_negative_prices_are_impossible() -> None:
    with pytest.raises(ValueError, match="negative"):
        price_cents(-1)


def test_duplicate_names_get_unique_suffixes_in_menu_order() -> None:
    # Given categories and items whose names slug to the same text
    doc = to_menu_import(
        menu(
            ("Drinks", [item("Latte"), item("latte!"), item("Latte 2"), item("LATTE")]),
            ("drinks", [item("Latte")]),
        )
    )

    # Then every id is unique, and the first keeps the plain slug
    assert [c["external_id"] for c in doc["categories"]] == ["drinks", "drinks-2"]
    assert [i["external_id"] for i in doc["categories"][0]["items"]] == [
        "drinks.latte",
        "drinks.latte-2",
        "drinks.latte-2-2",
        "drinks.latte-3",
    ]
    assert doc["categories"][1]["items"][0]["external_id"] == "drinks-2.latte"


def test_ids_are_stable_when_another_category_gains_an_item() -> None:
    before = item_external_ids(menu(("Coffee", [item("Latte")]), ("Tea", [item("Green")])))
    after = item_external_ids(
        menu(("Coffee", [item("Latte"), item("Green")]), ("Tea", [item("Green")]))
    )
    assert set(before) <= set(after)


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        pytest.param("Flat White", "flat-white", id="spaces"),
        pytest.param("  Crème brûlée!! ", "creme-brulee", id="accents"),
        pytest.param("Fish & Chips (Large)", "fish-chips-large", id="punctuation"),
        pytest.param("寿司", "item", id="no-ascii-left"),
        pytest.param("a" * 100, "a" * 60, id="long"),
    ],
)
def test_slugify(text: str, slug: str) -> None:
    assert slugify(text, "item") == slug


def test_an_empty_menu_cannot_be_imported() -> None:
    with pytest.raises(ValueError, match="'m-empty' has no items"):
        to_menu_import(menu(menu_id="m-empty"))
    with pytest.raises(ValueError, match="nothing to import"):
        to_menu_import(menu(("Coffee", []), menu_id="m-empty"))


def test_names_and_descriptions_are_trimmed() -> None:
    doc = to_menu_import(menu((" Coffee ", [item(" Latte ", description=" Smooth. ")])))
    category = doc["categories"][0]
    assert category["name"] == "Coffee"
    assert (category["items"][0]["name"], category["items"][0]["description"]) == (
        "Latte",
        "Smooth.",
    )


# Any name the API accepts (state.fields.Text): not blank, no control or bidi characters.
names = st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=12).filter(
    lambda name: bool(name.strip()) and refused_character(name) is None
)


@given(
    st.lists(
        st.tuples(names, st.lists(names, max_size=6)),
        min_size=1,
        max_size=6,
    )
)
def test_external_ids_are_always_unique_and_deterministic(
    shape: list[tuple[str, list[str]]],
) -> None:
    built = menu(*((c, [item(i) for i in items]) for c, items in shape))
    ids = item_external_ids(built)
    assert len(ids) == len(set(ids))
    assert ids == item_external_ids(built)
    category_ids = [c["external_id"] for c in to_menu_import_or_empty(built)]
    assert len(category_ids) == len(set(category_ids))


def to_menu_import_or_empty(built: Menu) -> list[dict[str, Any]]:
    try:
        return list(to_menu_import(built)["categories"])
    except ValueError:
        return []


# ------------------------------------------------------------------ option sets


def test_option_sets_are_deduplicated_across_items() -> None:
    # Given two items sharing one option set and a third with different prices
    built = menu(
        (
            "Coffee",
            [
                item("Latte", option_sets=[milk(("Oat", 0.8), ("Soy", 0.5))]),
                item("Mocha", option_sets=[milk(("Oat", 0.8), ("Soy", 0.5))]),
                item("Flat white", option_sets=[milk(("Oat", 1.0))]),
            ],
        )
    )

    # When option sets are derived
    sets = derive_option_sets(built)

    # Then the shared set appears once with both items, the different one separately
    assert sets == [
        {
            "external_id": "milk",
            "name": "Milk",
            "required": False,
            "multi_select": False,
            "options": [
                {"name": "Oat", "price_cents": 80, "position": 0},
                {"name": "Soy", "price_cents": 50, "position": 1},
            ],
            "item_external_ids": ["coffee.latte", "coffee.mocha"],
        },
        {
            "external_id": "milk-2",
            "name": "Milk",
            "required": False,
            "multi_select": False,
            "options": [{"name": "Oat", "price_cents": 100, "position": 0}],
            "item_external_ids": ["coffee.flat-white"],
        },
    ]


def test_sets_that_differ_only_in_being_required_stay_apart() -> None:
    built = menu(
        (
            "Coffee",
            [
                item("Latte", option_sets=[milk(("Oat", 0.8))]),
                item("Mocha", option_sets=[milk(("Oat", 0.8), required=True)]),
            ],
        )
    )
    assert [s["required"] for s in derive_option_sets(built)] == [False, True]


def test_an_item_using_a_set_twice_is_listed_once() -> None:
    built = menu(("Coffee", [item("Latte", option_sets=[milk(("Oat", 0.8))] * 2)]))
    [only] = derive_option_sets(built)
    assert only["item_external_ids"] == ["coffee.latte"]


def test_a_menu_without_option_sets_has_none() -> None:
    assert derive_option_sets(menu(("Coffee", [item("Latte")]))) == []


# ------------------------------------------------------------------ tags


def test_tags_are_normalised_and_deduplicated() -> None:
    built = menu(
        (
            "Coffee",
            [
                item("Latte", tags=[" Vegan ", "HOT", "vegan"]),
                item("Mocha", tags=["hot", "Gluten   Free"]),
            ],
        )
    )
    assert derive_item_tags(built) == [
        {"tag": "vegan", "item_external_ids": ["coffee.latte"]},
        {"tag": "hot", "item_external_ids": ["coffee.latte", "coffee.mocha"]},
        {"tag": "gluten free", "item_external_ids": ["coffee.mocha"]},
    ]


def test_normalise_tag() -> None:
    assert normalise_tag("  Dairy\tFree ") == "dairy free"
    assert normalise_tag("   ") == ""


def test_option_sets_and_tags_refer_to_the_ids_of_the_import() -> None:
    built = make_restaurant().menu
    imported = set(item_external_ids(built))
    referenced = {i for s in derive_option_sets(built) for i in s["item_external_ids"]}
    referenced |= {i for t in derive_item_tags(built) for i in t["item_external_ids"]}
    assert referenced
    assert referenced <= imported


def test_image_urls_are_deduplicated_in_menu_order() -> None:
    assert image_urls(make_restaurant().menu) == [
        "https://cafe-aroha.example/fw.jpg",
        "https://cafe-aroha.example/latte.jpg",
    ]
