"""Step 1's extractor on the shipped sample sites and on hostile HTML (domain.site_facts)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from domain.site_facts import NoMenuFoundError, read_site
from local.site_server import SAMPLE_SITES, SITES_DIR

BASE = "http://127.0.0.1:8000/"


def site(slug: str) -> str:
    return (SITES_DIR / slug / "index.html").read_text(encoding="utf-8")


def page(body: str, head: str = "") -> str:
    return f"<!doctype html><html><head>{head}</head><body>{body}</body></html>"


def jsonld(data: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


def restaurant(**fields: object) -> dict[str, object]:
    return {
        "@context": "https://schema.org",
        "@type": "Restaurant",
        "name": "Test Kitchen",
    } | fields


def menu_of(*items: dict[str, object], section: str = "Mains") -> dict[str, object]:
    return {
        "@type": "Menu",
        "hasMenuSection": {"@type": "MenuSection", "name": section, "hasMenuItem": list(items)},
    }


def item(name: str, price: object) -> dict[str, object]:
    return {"@type": "MenuItem", "name": name, "offers": {"@type": "Offer", "price": price}}


# ---------------------------------------------------------------- the sample sites


def test_every_sample_site_is_shipped() -> None:
    assert {p.name for p in SITES_DIR.iterdir() if p.is_dir()} == set(SAMPLE_SITES)


def test_luigis_json_ld_menu_branding_and_contacts() -> None:
    facts = read_site(site("luigis-trattoria"), BASE + "luigis-trattoria/")

    assert facts.name == "Luigi's Trattoria"
    assert [(c.name, len(c.items)) for c in facts.categories] == [
        ("Antipasti", 3),
        ("Pasta", 4),
        ("Dolci", 4),
    ]
    assert facts.skipped_items == 1  # the soup has no price: left out, not priced at 0
    first = facts.categories[0].items[0]
    assert (first.name, first.price) == ("Bruschetta", 12.5)
    assert (
        facts.categories[0].items[1].image_url
        == "https://cdn.luigis-trattoria.example/arancini.jpg"
    )
    # a relative image resolves to the loopback host, which the platform could not fetch
    assert facts.categories[1].items[3].image_url is None
    assert facts.branding.primary_color == "#b22222"  # theme-color, lower-cased
    assert facts.branding.secondary_color == "#f4e1c1"
    assert facts.branding.font == "Playfair Display"
    assert facts.branding.logo_url == "https://cdn.luigis-trattoria.example/logo.png"
    assert facts.emails == ["ciao@luigis-trattoria.example"]
    assert facts.phones == ["+6445550101"]  # JSON-LD and tel: link: one number


def test_green_bowl_microdata_css_variables_and_one_phone_written_two_ways() -> None:
    facts = read_site(site("green-bowl"), BASE + "green-bowl/")

    assert [(c.name, len(c.items)) for c in facts.categories] == [("Bowls", 3), ("Drinks", 2)]
    assert facts.categories[0].items[0].price == 18.5
    assert facts.branding.primary_color == "#2e7d32"
    assert facts.branding.secondary_color == "#a5d6a7"
    assert facts.branding.font == "Nunito"
    assert facts.branding.logo_url == "https://images.green-bowl.example/og-logo.png"
    assert facts.emails == ["team@green-bowl.example"]
    assert facts.phones == ["+6495550123"]


def test_harbour_fish_graph_prices_with_signs_nested_sections_and_two_emails() -> None:
    facts = read_site(site("harbour-fish"), BASE + "harbour-fish/")

    prices = {i.name: i.price for c in facts.categories for i in c.items}
    assert prices == {
        "Fish and chips": 15.9,
        "Hoki bites": 9.5,
        "Kumara chips": 6.0,
        "Grilled snapper": 28.0,
    }
    assert [c.name for c in facts.categories] == ["From the fryer", "Grill"]
    assert facts.emails == ["orders@harbour-fish.example", "events@harbour-fish.example"]
    assert facts.phones == []
    assert facts.branding.primary_color == "#0277bd"  # the most used colour
    assert facts.branding.logo_url is None  # relative to a loopback host


def test_a_page_without_menu_markup_has_no_menu() -> None:
    with pytest.raises(NoMenuFoundError, match=r"no schema\.org menu"):
        read_site(site("corner-cafe"), BASE + "corner-cafe/")


def test_spice_route_a_menu_alone_and_the_title_for_a_name() -> None:
    facts = read_site(site("spice-route"), BASE + "spice-route/")

    assert facts.name == "Spice Route"
    assert sum(len(c.items) for c in facts.categories) == 4
    assert (facts.emails, facts.phones) == ([], [])
    assert facts.branding.primary_color == "#d84315"
    assert facts.branding.secondary_color == "#ffb300"


# ---------------------------------------------------------------- rules


def test_json_ld_is_preferred_to_microdata() -> None:
    micro = (
        '<div itemscope itemtype="https://schema.org/Menu"><div itemprop="hasMenuItem" itemscope '
        'itemtype="https://schema.org/MenuItem"><span itemprop="name">Micro</span><div '
        'itemprop="offers" itemscope itemtype="https://schema.org/Offer"><span itemprop="price">'
        "5</span></div></div></div>"
    )
    html = page(micro, jsonld(restaurant(hasMenu=menu_of(item("Json", 7)))))

    facts = read_site(html, BASE)

    assert [i.name for c in facts.categories for i in c.items] == ["Json"]


def test_only_items_without_a_price_is_no_menu_and_says_so() -> None:
    html = page("", jsonld(restaurant(hasMenu=menu_of({"@type": "MenuItem", "name": "Soup"}))))

    with pytest.raises(NoMenuFoundError, match="no menu item with a price"):
        read_site(html, BASE)


@pytest.mark.parametrize(
    ("price", "expected"),
    [("12.50", 12.5), ("$9", 9.0), ("NZ$ 1,250.00", 1250.0), (7, 7.0), ("free", None), (-3, None)],
)
def test_prices_are_read_from_numbers_and_text(price: object, expected: float | None) -> None:
    html = page("", jsonld(restaurant(hasMenu=menu_of(item("A", price), item("B", 1)))))

    facts = read_site(html, BASE)

    found = {i.name: i.price for c in facts.categories for i in c.items}
    assert found.get("A") == expected


def test_text_is_cleaned_to_what_the_models_accept() -> None:
    messy = item("  Tagliatelle\n\tal\u202eragù\x00  ", 10)
    html = page("", jsonld(restaurant(hasMenu=menu_of(messy, section="\u2066Pasta\u2069"))))

    facts = read_site(html, BASE)

    assert facts.categories[0].name == "Pasta"
    assert facts.categories[0].items[0].name == "Tagliatelle alragù"


# ---------------------------------------------------------------- hostile HTML


@pytest.mark.parametrize(
    "html",
    [
        "",
        "<html",
        "<<<>>>&&&",
        page("<div><p><span>unclosed", jsonld(restaurant(hasMenu=menu_of(item("A", 1))))[:-20]),
        page("", '<script type="application/ld+json">{not json at all</script>'),
        page("", '<script type="application/ld+json">' + "[" * 5_000 + "]" * 5_000 + "</script>"),
        page("", "<script>var menu = {hasMenu: 1};</script>"),
        "\x00\x01\x02 binary junk \xff",
    ],
)
def test_broken_or_hostile_markup_is_no_menu_never_a_crash(html: str) -> None:
    with pytest.raises(NoMenuFoundError):
        read_site(html, BASE)


def test_a_deeply_nested_menu_is_read_to_a_bound() -> None:
    section: dict[str, object] = {
        "@type": "MenuSection",
        "name": "Deep",
        "hasMenuItem": [item("Deep dish", 5)],
    }
    for n in range(200):
        section = {"@type": "MenuSection", "name": f"Level {n}", "hasMenuSection": section}
    html = page("", jsonld(restaurant(hasMenu={"@type": "Menu", "hasMenuSection": section})))

    with pytest.raises(NoMenuFoundError):
        read_site(html, BASE)  # deeper than MAX_DEPTH: not followed, and nothing else is there


def test_a_large_page_of_junk_is_read_in_bounded_time() -> None:
    junk = "<div>" + "<p>lorem ipsum</p>" * 100_000 + "</div>"  # ~1.8 MB, the fetcher's cap
    html = page(junk, jsonld(restaurant(hasMenu=menu_of(item("A", 1)))))

    started = time.monotonic()
    facts = read_site(html, BASE)

    assert [i.name for c in facts.categories for i in c.items] == ["A"]
    assert time.monotonic() - started < 30  # generous: a shared machine; a hang fails it


def test_the_sites_directory_holds_only_static_files() -> None:
    assert all(p.suffix in (".html",) for p in Path(SITES_DIR).rglob("*") if p.is_file())
