"""Website code generated from branding: escaping, contrast, determinism."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from domain.codegen import (
    CODE_FILES,
    DARK_TEXT,
    LIGHT_TEXT,
    bundle_checksum,
    contrast_ratio,
    font_stack,
    font_stylesheet_url,
    generate_code,
    readable_text_color,
    relative_luminance,
)
from state.models import Branding


def make_branding(**overrides: Any) -> Branding:
    data: dict[str, Any] = {
        "primary_color": "#1a73e8",
        "secondary_color": "#ffffff",
        "logo_url": "https://aroha.example/logo.png",
        "font": "Inter",
    }
    data.update(overrides)
    return Branding.model_validate(data)


def test_the_same_branding_always_yields_the_same_files() -> None:
    first = generate_code(make_branding(), "Cafe Aroha")
    second = generate_code(make_branding(), "Cafe Aroha")
    assert first == second
    assert len(first.checksum) == 64


def test_the_checksum_covers_every_file() -> None:
    base = generate_code(make_branding(), "Cafe Aroha")
    assert generate_code(make_branding(primary_color="#000000"), "Cafe Aroha").checksum != (
        base.checksum
    )
    assert generate_code(make_branding(), "Cafe Aroho").checksum != base.checksum
    assert generate_code(make_branding(font="Lora"), "Cafe Aroha").checksum != base.checksum
    assert bundle_checksum(base.head_html, base.body_html, base.css) == base.checksum


def test_the_checksum_separates_the_files() -> None:
    # Moving text from one file to the next changes the checksum
    assert bundle_checksum("ab", "c", "") != bundle_checksum("a", "bc", "")
    naive = hashlib.sha256(b"abc").hexdigest()
    assert bundle_checksum("a", "b", "c") != naive


def test_the_restaurant_name_and_logo_url_are_escaped() -> None:
    # Given a name and a logo URL that try to break out of the HTML (a URL with spaces is
    # refused before codegen: this one has none)
    branding = make_branding(logo_url='https://evil.example/x.png"onerror="alert(1)')
    code = generate_code(branding, '<script>alert("x")</script> & Co')

    # Then they arrive as text, never as markup
    assert "<script>" not in code.body_html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in code.body_html
    assert 'onerror="' not in code.body_html
    assert "&quot;onerror=&quot;alert(1)" in code.body_html


def test_the_header_has_the_logo_with_alt_text_and_the_name() -> None:
    code = generate_code(make_branding(), "Cafe Aroha")
    assert (
        '<img class="pumpd-logo" src="https://aroha.example/logo.png" alt="Cafe Aroha logo">'
        in (code.body_html)
    )
    assert '<span class="pumpd-name">Cafe Aroha</span>' in code.body_html


def test_no_img_without_a_logo() -> None:
    code = generate_code(make_branding(logo_url=None), "Cafe Aroha")
    assert "<img" not in code.body_html
    assert "Cafe Aroha" in code.body_html


def test_head_links_the_font_sets_the_theme_colour_and_links_the_stylesheet() -> None:
    code = generate_code(make_branding(primary_color="#1A73E8", font="Open Sans"), "A")
    assert '<meta name="theme-color" content="#1a73e8">' in code.head_html
    assert "https://fonts.googleapis.com/css2?family=Open+Sans:wght@400;600;700&amp;" in (
        code.head_html
    )
    assert f'<link rel="stylesheet" href="{CODE_FILES["css"][0]}">' in code.head_html


def test_a_system_font_needs_no_web_font() -> None:
    assert font_stylesheet_url("Arial") is None
    code = generate_code(make_branding(font="Georgia"), "A")
    assert "fonts.googleapis.com" not in code.head_html


def test_css_declares_the_brand_properties_and_styles() -> None:
    css = generate_code(make_branding(), "A").css
    assert "--pumpd-primary: #1a73e8;" in css
    assert "--pumpd-secondary: #ffffff;" in css
    assert '--pumpd-font: "Inter", system-ui' in css
    assert ".pumpd-header {" in css
    assert "button, .pumpd-button {" in css


@pytest.mark.parametrize(
    ("font", "family"),
    [
        pytest.param("Inter", "sans-serif", id="sans"),
        pytest.param("Playfair Display", "serif", id="serif"),
        pytest.param("PT Sans", "sans-serif", id="sans-with-serif-like-name"),
        pytest.param("Roboto Mono", "monospace", id="mono"),
    ],
)
def test_font_stacks_fall_back_to_the_right_generic_family(font: str, family: str) -> None:
    assert font_stack(font).endswith(f" {family}")


def test_a_hostile_font_name_cannot_break_out_of_the_css_string() -> None:
    stack = font_stack('Evil"; } body { display: none; } </style>')
    literal = stack.split(", system-ui")[0]
    assert literal.startswith('"')
    assert literal.endswith('"')
    assert '"' not in literal[1:-1]
    assert "<" not in literal


def test_relative_luminance_matches_wcag() -> None:
    assert relative_luminance("#000000") == 0
    assert relative_luminance("#ffffff") == pytest.approx(1)
    assert relative_luminance("#808080") == pytest.approx(0.2159, abs=1e-4)
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21)
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    with pytest.raises(ValueError, match="rrggbb"):
        relative_luminance("blue")


@pytest.mark.parametrize(
    ("background", "text"),
    [
        pytest.param("#1a73e8", LIGHT_TEXT, id="google-blue"),
        pytest.param("#000000", LIGHT_TEXT, id="black"),
        pytest.param("#ffffff", DARK_TEXT, id="white"),
        pytest.param("#ffeb3b", DARK_TEXT, id="yellow"),
        pytest.param("#00ff00", DARK_TEXT, id="green"),
        pytest.param("#7b1fa2", LIGHT_TEXT, id="purple"),
    ],
)
def test_the_text_colour_is_the_more_readable_one(background: str, text: str) -> None:
    assert readable_text_color(background) == text
    other = DARK_TEXT if text == LIGHT_TEXT else LIGHT_TEXT
    assert contrast_ratio(background, text) >= contrast_ratio(background, other)


def test_the_css_uses_the_readable_colour_on_the_primary() -> None:
    assert "--pumpd-on-primary: #ffffff;" in generate_code(make_branding(), "A").css
    yellow = generate_code(make_branding(primary_color="#ffeb3b"), "A").css
    assert f"--pumpd-on-primary: {DARK_TEXT};" in yellow
