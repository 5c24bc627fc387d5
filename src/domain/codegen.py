"""Website customisation code generated from a restaurant's branding (pure, deterministic).

Three files make the bundle the platform publishes: `head.html` (font and theme colour, a
link to the stylesheet), `body.html` (the header with logo and name) and `styles.css` (CSS
custom properties, a text colour readable on the brand colour, button and header styles).
Everything from the restaurant's data is escaped for the context it lands in.
"""

from __future__ import annotations

import hashlib
import html
import re
import urllib.parse
from dataclasses import dataclass

from state.models import Branding

HEAD_FILE = "head.html"
BODY_FILE = "body.html"
CSS_FILE = "styles.css"

# Output field → (file name, content type).
CODE_FILES: dict[str, tuple[str, str]] = {
    "head_html": (HEAD_FILE, "text/html; charset=utf-8"),
    "body_html": (BODY_FILE, "text/html; charset=utf-8"),
    "css": (CSS_FILE, "text/css; charset=utf-8"),
}

DARK_TEXT = "#111111"
LIGHT_TEXT = "#ffffff"

# Fonts every browser has: no web font link for them.
_SYSTEM_FONTS = frozenset(
    {
        "arial",
        "helvetica",
        "helvetica neue",
        "georgia",
        "times new roman",
        "verdana",
        "tahoma",
        "trebuchet ms",
        "courier new",
        "system-ui",
        "sans-serif",
        "serif",
        "monospace",
    }
)
_SERIF_HINTS = ("serif", "georgia", "times", "garamond", "playfair", "merriweather", "lora")
_MONO_HINTS = ("mono", "courier", "code")
_SANS_FALLBACK = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
_SERIF_FALLBACK = 'Georgia, "Times New Roman", Times, serif'
_MONO_FALLBACK = 'ui-monospace, "SFMono-Regular", Menlo, Consolas, "Courier New", monospace'

_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True)
class GeneratedCode:
    head_html: str
    body_html: str
    css: str
    # sha256 over the three files (see `bundle_checksum`).
    checksum: str

    def files(self) -> dict[str, str]:
        """Output field → content, in `CODE_FILES` order."""
        return {"head_html": self.head_html, "body_html": self.body_html, "css": self.css}


# ------------------------------------------------------------------ colour


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(color: str) -> float:
    """WCAG 2 relative luminance of a `#rrggbb` colour (0 black … 1 white)."""
    if not _HEX.match(color):
        raise ValueError(f"not a #rrggbb colour: {color!r}")
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two colours, 1 … 21."""
    la, lb = relative_luminance(a), relative_luminance(b)
    lighter, darker = max(la, lb), min(la, lb)
    return (lighter + 0.05) / (darker + 0.05)


def readable_text_color(background: str) -> str:
    """The text colour (dark or light) with the higher contrast on `background`."""
    dark = contrast_ratio(background, DARK_TEXT)
    light = contrast_ratio(background, LIGHT_TEXT)
    return LIGHT_TEXT if light >= dark else DARK_TEXT


# ------------------------------------------------------------------ fonts


def _css_string(value: str) -> str:
    """A CSS string literal; control characters and `<` escaped, so it cannot break out."""
    out = []
    for char in value:
        if char in '"\\<>' or ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\{ord(char):x} ")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def font_stack(font: str) -> str:
    name = font.strip()
    lowered = name.lower()
    if any(hint in lowered for hint in _MONO_HINTS):
        fallback = _MONO_FALLBACK
    elif any(hint in lowered for hint in _SERIF_HINTS) and "sans" not in lowered:
        fallback = _SERIF_FALLBACK
    else:
        fallback = _SANS_FALLBACK
    return f"{_css_string(name)}, {fallback}"


def font_stylesheet_url(font: str) -> str | None:
    """The web font stylesheet for `font`, or None for a font every browser has."""
    name = " ".join(font.split())
    if name.lower() in _SYSTEM_FONTS:
        return None
    family = urllib.parse.quote_plus(name)
    return f"https://fonts.googleapis.com/css2?family={family}:wght@400;600;700&display=swap"


# ------------------------------------------------------------------ files


def _head_html(branding: Branding) -> str:
    lines = [
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="theme-color" content="{html.escape(branding.primary_color.lower())}">',
    ]
    font_url = font_stylesheet_url(branding.font)
    if font_url is not None:
        lines += [
            '<link rel="preconnect" href="https://fonts.googleapis.com">',
            '<link rel="preconnect" href="https://fonts.gstatic.com" crossorigin>',
            f'<link rel="stylesheet" href="{html.escape(font_url)}">',
        ]
    lines.append(f'<link rel="stylesheet" href="{CSS_FILE}">')
    return "\n".join(lines) + "\n"


def _body_html(branding: Branding, restaurant_name: str) -> str:
    name = html.escape(restaurant_name.strip())
    lines = ['<header class="pumpd-header">']
    if branding.logo_url:
        lines.append(
            f'  <img class="pumpd-logo" src="{html.escape(branding.logo_url)}" alt="{name} logo">'
        )
    lines += [f'  <span class="pumpd-name">{name}</span>', "</header>"]
    return "\n".join(lines) + "\n"


def _css(branding: Branding) -> str:
    primary = branding.primary_color.lower()
    secondary = branding.secondary_color.lower()
    on_primary = readable_text_color(primary)
    on_secondary = readable_text_color(secondary)
    return (
        ":root {\n"
        f"  --pumpd-primary: {primary};\n"
        f"  --pumpd-secondary: {secondary};\n"
        f"  --pumpd-on-primary: {on_primary};\n"
        f"  --pumpd-on-secondary: {on_secondary};\n"
        f"  --pumpd-font: {font_stack(branding.font)};\n"
        "}\n"
        "body {\n"
        "  font-family: var(--pumpd-font);\n"
        "}\n"
        ".pumpd-header {\n"
        "  display: flex;\n"
        "  align-items: center;\n"
        "  gap: 0.75rem;\n"
        "  padding: 0.75rem 1rem;\n"
        "  background: var(--pumpd-primary);\n"
        "  color: var(--pumpd-on-primary);\n"
        "}\n"
        ".pumpd-logo {\n"
        "  height: 48px;\n"
        "  width: auto;\n"
        "}\n"
        ".pumpd-name {\n"
        "  font-size: 1.25rem;\n"
        "  font-weight: 700;\n"
        "}\n"
        "button, .pumpd-button {\n"
        "  font-family: var(--pumpd-font);\n"
        "  background: var(--pumpd-primary);\n"
        "  color: var(--pumpd-on-primary);\n"
        "  border: 2px solid var(--pumpd-primary);\n"
        "  border-radius: 6px;\n"
        "  padding: 0.5rem 1rem;\n"
        "  cursor: pointer;\n"
        "}\n"
        "button:hover, .pumpd-button:hover {\n"
        "  background: var(--pumpd-secondary);\n"
        "  color: var(--pumpd-on-secondary);\n"
        "}\n"
    )


def bundle_checksum(head_html: str, body_html: str, css: str) -> str:
    """sha256 over each file's name, length and content, in a fixed order."""
    digest = hashlib.sha256()
    for (file_name, _), content in zip(
        CODE_FILES.values(), (head_html, body_html, css), strict=True
    ):
        data = content.encode()
        digest.update(f"{file_name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def generate_code(branding: Branding, restaurant_name: str) -> GeneratedCode:
    head_html = _head_html(branding)
    body_html = _body_html(branding, restaurant_name)
    css = _css(branding)
    return GeneratedCode(
        head_html=head_html,
        body_html=body_html,
        css=css,
        checksum=bundle_checksum(head_html, body_html, css),
    )
