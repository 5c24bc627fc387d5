"""What Step 1 reads from a restaurant's website (pure: HTML in, facts out; no I/O).

- The menu: schema.org `Restaurant`/`FoodEstablishment` → `hasMenu`/`menu` → `Menu` →
  `hasMenuSection` (`MenuSection`, nested ones flattened) → `hasMenuItem` (`MenuItem`, its
  `offers` → `Offer.price`), from JSON-LD (`@graph` included), microdata when JSON-LD has
  none. Both are read by **extruct** (the maintained schema.org extractor, on lxml); nothing
  here parses JSON-LD or microdata by hand. An item without a usable price is left out and
  counted (`skipped_items`), never given a made-up price.
- The branding: the logo from `og:image` or the JSON-LD `logo`; the primary and secondary
  colours from `<meta name="theme-color">`, else the CSS custom properties named like
  primary/brand and secondary/accent, else the most used colours of the page's CSS; the
  font from the first family of the `body` (or `html`, `:root`) rule.
- The contacts: JSON-LD and microdata `email`/`telephone` (and `contactPoint`), `mailto:` and
  `tel:` links; emails distinct case-insensitively, phones in E.164 (`domain.phones`).

Text is cleaned to what the models accept (whitespace collapsed, control and bidi characters
dropped, cut to the field's length); what still does not validate is left out.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote, urljoin

import extruct
import lxml.html
from email_validator import EmailNotValidError, validate_email
from lxml import etree
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from domain.phones import normalise_phone
from state.fields import WebUrl
from state.models import Branding, MenuCategory, MenuItem

MAX_CATEGORIES = 100
MAX_ITEMS_PER_CATEGORY = 500
MAX_DEPTH = 12  # how deep a menu's nesting is followed (sections in sections)
DEFAULT_CATEGORY = "Menu"
_RESTAURANT_TYPES = frozenset(
    {
        "Restaurant",
        "FoodEstablishment",
        "CafeOrCoffeeShop",
        "FastFoodRestaurant",
        "Bakery",
        "BarOrPub",
        "Brewery",
        "IceCreamShop",
        "Winery",
        "Distillery",
        "LocalBusiness",
    }
)
_WEB_URL: TypeAdapter[str] = TypeAdapter(WebUrl)


class NoMenuFoundError(Exception):
    """The page carries no schema.org menu item with a price."""


class SiteFacts(BaseModel):
    name: str | None = None
    categories: list[MenuCategory] = Field(default_factory=list)
    branding: Branding
    emails: list[str] = Field(default_factory=list)
    phones: list[str] = Field(default_factory=list)
    skipped_items: int = 0


def read_site(html: str, url: str, *, phone_region: str = "NZ") -> SiteFacts:
    """The facts of the page at `url` (NoMenuFoundError when it has no priced menu item)."""
    tree = _tree(html)
    data = extruct.extract(
        tree if tree is not None else html,
        base_url=url,
        syntaxes=["json-ld", "microdata"],
        uniform=True,
        errors="ignore",
    )
    jsonld = list(_nodes(data.get("json-ld") or []))
    microdata = list(_nodes(data.get("microdata") or []))
    categories, skipped = _menu(jsonld, url)
    if not categories:
        categories, skipped_microdata = _menu(microdata, url)
        skipped = skipped_microdata if categories else max(skipped, skipped_microdata)
    if not categories:
        reason = "no schema.org menu (JSON-LD or microdata)"
        if skipped:
            reason = f"no menu item with a price ({skipped} without one)"
        raise NoMenuFoundError(f"{reason} on {url}")
    structured = jsonld + microdata
    return SiteFacts(
        name=_name(structured, tree),
        categories=categories,
        branding=_branding(structured, tree, url),
        emails=_emails(structured, tree),
        phones=_phones(structured, tree, phone_region),
        skipped_items=skipped,
    )


# ---------------------------------------------------------------- structured data


def _tree(html: str) -> Any:
    try:
        return lxml.html.document_fromstring(html) if html.strip() else None
    except (etree.ParserError, ValueError):
        return None


def _nodes(found: list[Any], depth: int = 0) -> Iterator[dict[str, Any]]:
    """Every top-level node, `@graph` members included."""
    for node in found:
        if not isinstance(node, dict) or depth > MAX_DEPTH:
            continue
        yield node
        graph = node.get("@graph")
        if isinstance(graph, list):
            yield from _nodes(graph, depth + 1)


def _types(node: dict[str, Any]) -> set[str]:
    raw = node.get("@type")
    values = raw if isinstance(raw, list) else [raw]
    return {str(v).rsplit("/", 1)[-1] for v in values if v}


def _many(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _menus(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    menus: list[dict[str, Any]] = []
    for node in nodes:
        if _types(node) & _RESTAURANT_TYPES:
            for key in ("hasMenu", "menu"):
                menus += [m for m in _many(node.get(key)) if isinstance(m, dict)]
        elif "Menu" in _types(node):
            menus.append(node)
    return menus


def _menu(nodes: list[dict[str, Any]], url: str) -> tuple[list[MenuCategory], int]:
    sections: dict[str, list[MenuItem]] = {}
    skipped = 0
    for menu in _menus(nodes):
        for section_name, raw_items in _sections(menu, DEFAULT_CATEGORY, 0):
            for raw in raw_items:
                item = _item(raw, url)
                if item is None:
                    skipped += 1
                    continue
                sections.setdefault(section_name, []).append(item)
    categories = []
    for name, items in list(sections.items())[:MAX_CATEGORIES]:
        try:
            categories.append(MenuCategory(name=name, items=items[:MAX_ITEMS_PER_CATEGORY]))
        except ValidationError:
            skipped += len(items)
    return categories, skipped


def _sections(node: dict[str, Any], name: str, depth: int) -> Iterator[tuple[str, list[Any]]]:
    """(section name, its items) for a menu or section and the sections nested in it."""
    if depth > MAX_DEPTH:
        return
    items = [i for i in _many(node.get("hasMenuItem")) if isinstance(i, dict)]
    if items:
        yield name, items
    for section in _many(node.get("hasMenuSection")):
        if isinstance(section, dict):
            own = _text(section.get("name"), 200) or name
            yield from _sections(section, own, depth + 1)


def _item(raw: dict[str, Any], url: str) -> MenuItem | None:
    name = _text(raw.get("name"), 200)
    price = _price(raw.get("offers"))
    if not name or price is None:
        return None
    try:
        return MenuItem(
            name=name,
            description=_text(raw.get("description"), 2_000) or "",
            price=price,
            image_url=_url(_first_url(raw.get("image")), url),
        )
    except ValidationError:
        return None


def _price(offers: Any) -> float | None:
    for offer in _many(offers):
        if not isinstance(offer, dict):
            continue
        for value in (
            offer.get("price"),
            offer.get("lowPrice"),
            *(
                s.get("price")
                for s in _many(offer.get("priceSpecification"))
                if isinstance(s, dict)
            ),
        ):
            parsed = _number(value)
            if parsed is not None:
                return parsed
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        found = re.search(r"\d+(?:[.,]\d{1,2})?", value.replace(",", "").strip())
        if found is None:
            return None
        number = float(found.group(0))
    else:
        return None
    return number if 0 <= number <= 100_000 else None


# ---------------------------------------------------------------- page facts


def _name(nodes: list[dict[str, Any]], tree: Any) -> str | None:
    for node in nodes:
        if _types(node) & _RESTAURANT_TYPES:
            name = _text(node.get("name"), 200)
            if name:
                return name
    if tree is None:
        return None
    site_name = _meta(tree, "og:site_name")
    if site_name:
        return _text(site_name, 200)
    title = tree.findtext(".//title")
    return _text(title, 200)


def _meta(tree: Any, key: str) -> str | None:
    for meta in tree.iter("meta"):
        if key in (meta.get("property"), meta.get("name")):
            content = meta.get("content")
            if content:
                return str(content).strip()
    return None


def _branding(nodes: list[dict[str, Any]], tree: Any, url: str) -> Branding:
    logo = None
    css = ""
    theme = None
    if tree is not None:
        logo = _url(_meta(tree, "og:image"), url)
        theme = _colour(_meta(tree, "theme-color") or "")
        css = "\n".join(
            [s.text_content() for s in tree.iter("style")]
            + [
                f"{el.tag} {{{el.get('style')}}}"
                for el in tree.iter()
                if isinstance(el.tag, str) and el.get("style")
            ]
        )
    if logo is None:
        for node in nodes:
            if _types(node) & _RESTAURANT_TYPES and node.get("logo"):
                logo = _url(_first_url(node.get("logo")), url)
                if logo:
                    break
    variables = dict(re.findall(r"--([\w-]+)\s*:\s*([^;{}]+)", css))
    primary = theme or _variable(variables, ("primary", "brand"), ("secondary", "accent"))
    secondary = _variable(variables, ("secondary", "accent"), ())
    used = [c for c, _ in _colour_counts(css).most_common() if c not in ("#ffffff", "#000000")]
    primary = primary or (used[0] if used else None)
    if secondary is None:
        secondary = next((c for c in used if c != primary), None)
    fields: dict[str, Any] = {"primary_color": primary or "#1a73e8", "logo_url": logo}
    if secondary:
        fields["secondary_color"] = secondary
    font = _font(css)
    if font:
        fields["font"] = font
    try:
        return Branding(**fields)
    except ValidationError:
        return Branding(primary_color=fields["primary_color"])


def _variable(
    variables: dict[str, str], wanted: tuple[str, ...], not_wanted: tuple[str, ...]
) -> str | None:
    for name, value in variables.items():
        lowered = name.lower()
        if any(w in lowered for w in wanted) and not any(n in lowered for n in not_wanted):
            colour = _colour(value)
            if colour:
                return colour
    return None


_HEX = re.compile(r"#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b")
_RGB = re.compile(r"rgba?\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})")


def _colour(value: str) -> str | None:
    value = value.strip()
    hexed = _HEX.fullmatch(value) or _HEX.match(value)
    if hexed:
        digits = hexed.group(0)[1:]
        if len(digits) == 3:
            digits = "".join(c * 2 for c in digits)
        return "#" + digits.lower()
    rgb = _RGB.match(value)
    if rgb:
        parts = [min(int(p), 255) for p in rgb.groups()]
        return "#" + "".join(f"{p:02x}" for p in parts)
    return None


def _colour_counts(css: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for found in _HEX.finditer(css):
        colour = _colour(found.group(0))
        if colour:
            counts[colour] += 1
    for found in _RGB.finditer(css):
        colour = _colour(found.group(0))
        if colour:
            counts[colour] += 1
    return counts


def _font(css: str) -> str | None:
    for selector in ("body", "html", ":root", r"\*"):
        rule = re.search(
            rf"(?:^|[}},\s]){selector}\s*(?:,[^{{]*)?\{{[^}}]*?font-family\s*:\s*([^;}}]+)", css
        )
        if rule:
            first = rule.group(1).split(",")[0].strip().strip("'\"")
            return _text(first, 80)
    return None


def _emails(nodes: list[dict[str, Any]], tree: Any) -> list[str]:
    found = [str(v) for v in _contact_values(nodes, "email")]
    if tree is not None:
        found += [
            unquote(str(a.get("href"))[7:].split("?")[0])
            for a in tree.iter("a")
            if str(a.get("href") or "").lower().startswith("mailto:")
        ]
    emails: dict[str, str] = {}
    for raw in found:
        candidate = raw.strip().removeprefix("mailto:")
        try:
            validate_email(candidate, check_deliverability=False)
        except EmailNotValidError:
            continue
        emails.setdefault(candidate.casefold(), candidate)
    return list(emails.values())


def _phones(nodes: list[dict[str, Any]], tree: Any, region: str) -> list[str]:
    found = [str(v) for v in _contact_values(nodes, "telephone")]
    if tree is not None:
        found += [
            unquote(str(a.get("href"))[4:])
            for a in tree.iter("a")
            if str(a.get("href") or "").lower().startswith("tel:")
        ]
    phones: dict[str, None] = {}
    for raw in found:
        normalised = normalise_phone(raw.strip(), region)
        if normalised:
            phones.setdefault(normalised, None)
    return list(phones)


def _contact_values(nodes: list[dict[str, Any]], key: str) -> Iterator[Any]:
    for node in nodes:
        if not _types(node) & _RESTAURANT_TYPES:
            continue
        yield from (v for v in _many(node.get(key)) if isinstance(v, str))
        for point in _many(node.get("contactPoint")):
            if isinstance(point, dict):
                yield from (v for v in _many(point.get(key)) if isinstance(v, str))


# ---------------------------------------------------------------- cleaning


_DROPPED = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029")


def _text(value: Any, limit: int) -> str | None:
    """Text as the models accept it: one line, no control or bidi characters, at most
    `limit` characters; None when nothing is left."""
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str)), None)
    if not isinstance(value, str):
        return None
    kept = "".join(
        " " if c.isspace() else c
        for c in value
        if c.isspace() or (unicodedata.category(c) not in ("Cc", "Cs") and c not in _DROPPED)
    )
    cleaned = " ".join(kept.split())[:limit].strip()
    return cleaned or None


def _first_url(value: Any) -> str | None:
    for entry in _many(value):
        if isinstance(entry, str):
            return entry
        if isinstance(entry, dict) and isinstance(entry.get("url"), str):
            return str(entry["url"])
    return None


def _url(value: str | None, base: str) -> str | None:
    """An absolute URL the platform may fetch (`WebUrl`: public hosts only), else None."""
    if not value:
        return None
    try:
        return _WEB_URL.validate_python(urljoin(base, value.strip()))
    except ValidationError:
        return None
