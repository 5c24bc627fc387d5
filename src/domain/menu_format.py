"""The restaurant's menu in the platform's import format, and what phases 3-4 add to it.

Pure functions. External ids are stable: a slug of the names, de-duplicated with `-2`,
`-3`… in menu order, so the same menu always yields the same ids and an option set or tag
refers to exactly the item the import created. Item ids are scoped by their category
(`coffee.flat-white`), so adding an item elsewhere never renames an existing one.
Positions are 0-based. Prices are integer cents, rounded half up.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from state.models import Menu, MenuCategory, MenuItem, MenuOptionSet

MENU_IMPORT_FORMAT = "pumpd-menu-import/v1"
_MAX_SLUG = 60
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def slugify(text: str, fallback: str) -> str:
    """Lower-case ASCII words joined by `-`; `fallback` when nothing is left."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = _NON_ALNUM.sub("-", ascii_text.lower()).strip("-")[:_MAX_SLUG].strip("-")
    return slug or fallback


def price_cents(price: float) -> int:
    """Dollars to integer cents, half up: 5.5 → 550, 0.285 → 29 (from the decimal text)."""
    if price < 0:
        raise ValueError(f"negative price {price}")
    cents = (Decimal(str(price)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(cents)


class _Unique:
    """Hands out slugs unique within one scope: `x`, `x-2`, `x-3`…"""

    def __init__(self) -> None:
        self._used: set[str] = set()

    def take(self, base: str) -> str:
        candidate, n = base, 1
        while candidate in self._used:
            n += 1
            candidate = f"{base}-{n}"
        self._used.add(candidate)
        return candidate


@dataclass(frozen=True)
class _IdentifiedItem:
    external_id: str
    item: MenuItem


@dataclass(frozen=True)
class _IdentifiedCategory:
    external_id: str
    category: MenuCategory
    items: tuple[_IdentifiedItem, ...]


def _identify(menu: Menu) -> tuple[_IdentifiedCategory, ...]:
    category_ids = _Unique()
    result = []
    for category in menu.categories:
        category_id = category_ids.take(slugify(category.name, "category"))
        item_ids = _Unique()
        items = tuple(
            _IdentifiedItem(f"{category_id}.{item_ids.take(slugify(item.name, 'item'))}", item)
            for item in category.items
        )
        result.append(_IdentifiedCategory(category_id, category, items))
    return tuple(result)


def item_external_ids(menu: Menu) -> list[str]:
    """Every item's external id, in menu order (the ids `to_menu_import` assigns)."""
    return [item.external_id for category in _identify(menu) for item in category.items]


def to_menu_import(menu: Menu) -> dict[str, Any]:
    """The menu as a `pumpd-menu-import/v1` document. ValueError if there is nothing to import."""
    identified = _identify(menu)
    if not any(category.items for category in identified):
        raise ValueError(
            f"menu {menu.menu_id!r} has no items: there is nothing to import "
            "(extract the menu again, or turn menu import off)"
        )
    return {
        "menu_id": menu.menu_id,
        "format": MENU_IMPORT_FORMAT,
        "categories": [
            {
                "external_id": category.external_id,
                "name": category.category.name.strip(),
                "position": position,
                "items": [
                    {
                        "external_id": entry.external_id,
                        "name": entry.item.name.strip(),
                        "description": entry.item.description.strip(),
                        "price_cents": price_cents(entry.item.price),
                        "image_url": entry.item.image_url,
                        "position": item_position,
                    }
                    for item_position, entry in enumerate(category.items)
                ],
            }
            for position, category in enumerate(identified)
        ],
    }


def _option_set_key(option_set: MenuOptionSet) -> tuple[Any, ...]:
    return (
        option_set.name.strip(),
        option_set.required,
        option_set.multi_select,
        tuple((o.name.strip(), price_cents(o.price)) for o in option_set.options),
    )


def derive_option_sets(menu: Menu) -> list[dict[str, Any]]:
    """Option sets de-duplicated across items, each with the items that use it.

    Two sets are the same when their name, options (names and prices) and flags
    (`required`, `multi_select`) are; sets that differ only in flags stay apart, since they
    behave differently. Order: first appearance in the menu.
    """
    found: dict[tuple[Any, ...], dict[str, Any]] = {}
    ids = _Unique()
    for category in _identify(menu):
        for entry in category.items:
            for option_set in entry.item.option_sets:
                key = _option_set_key(option_set)
                current = found.get(key)
                if current is None:
                    current = {
                        "external_id": ids.take(slugify(option_set.name, "option-set")),
                        "name": option_set.name.strip(),
                        "required": option_set.required,
                        "multi_select": option_set.multi_select,
                        "options": [
                            {
                                "name": option.name.strip(),
                                "price_cents": price_cents(option.price),
                                "position": position,
                            }
                            for position, option in enumerate(option_set.options)
                        ],
                        "item_external_ids": [],
                    }
                    found[key] = current
                if entry.external_id not in current["item_external_ids"]:
                    current["item_external_ids"].append(entry.external_id)
    return list(found.values())


def normalise_tag(tag: str) -> str:
    """Trimmed, lower-case, inner whitespace collapsed to one space."""
    return " ".join(tag.split()).lower()


def derive_item_tags(menu: Menu) -> list[dict[str, Any]]:
    """Normalised tags, each once, with the items carrying it; empty tags are dropped."""
    found: dict[str, list[str]] = {}
    for category in _identify(menu):
        for entry in category.items:
            for raw in entry.item.tags:
                tag = normalise_tag(raw)
                if not tag:
                    continue
                items = found.setdefault(tag, [])
                if entry.external_id not in items:
                    items.append(entry.external_id)
    return [{"tag": tag, "item_external_ids": items} for tag, items in found.items()]


def image_urls(menu: Menu) -> list[str]:
    """Every item image URL, de-duplicated, in menu order."""
    seen: dict[str, None] = {}
    for category in menu.categories:
        for item in category.items:
            if item.image_url:
                seen.setdefault(item.image_url, None)
    return list(seen)
