"""The validated string types of incoming data: `Text`, `OptionalText`, `Email`, `WebUrl`,
`SiteUrl`.

One place for the input rules (docs/architecture.md §8.1). Each refuses what it does not
accept and never rewrites it: a value is stored exactly as given, or the request is refused.

- `Text` (names and free text shown to people, copied into generated website files): not
  blank, no control character (C0, DEL, C1, so no NUL, ESC, TAB or newline), no line or
  paragraph separator (U+2028, U+2029), no bidi embedding, override or isolate (U+202A-U+202E,
  U+2066-U+2069), no lone surrogate. The bidi *marks* U+200E, U+200F and U+061C are allowed:
  they have no scope (they cannot reorder the text around them) and mixed right-to-left names
  need them. `OptionalText` is the same but may be empty ("" means "none").
- `Email`: an address as email-validator checks it (no display name such as `Bob <b@x.io>`),
  stored as given: not lowercased, not normalised.
- `WebUrl`: an absolute http(s) URL with a host; no whitespace, control character or
  backslash anywhere; no user info; no host that is, or that a browser would read as, a
  loopback, private, link-local, unique-local, unspecified, multicast or otherwise non-global
  IP address, nor `localhost`. The platform fetches these URLs (images, logos).

Data read back from the table was validated when it came in: the repository validates stored
items with `TRUSTED_STORED` as context, which skips these rules, so data stored under older
rules stays readable.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
import urllib.parse
from typing import Annotated, Any

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, Field, ValidationInfo

# Validation context of items read back from the table (see the module docstring).
TRUSTED_STORED: dict[str, Any] = {"trusted_stored": True}

_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_SEPARATORS = frozenset("\u2028\u2029")
# Characters whose general category alone refuses them: control, surrogate.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs"})
# Fast path: printable ASCII (space to ~) holds none of the refused characters.
_PRINTABLE_ASCII = re.compile(r"[ -~]*")


def _trusted(info: ValidationInfo) -> bool:
    context = info.context
    return isinstance(context, dict) and context.get("trusted_stored") is True


def refused_character(value: str) -> str | None:
    """Why `value` holds a character text may not hold, or None if it holds none."""
    if _PRINTABLE_ASCII.fullmatch(value):
        return None
    for position, char in enumerate(value):
        code = f"U+{ord(char):04X}"
        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            kind = "surrogate" if 0xD800 <= ord(char) <= 0xDFFF else "control"
            return f"contains a {kind} character ({code}) at position {position}"
        if char in _BIDI_CONTROLS:
            return f"contains a bidi override or isolate ({code}) at position {position}"
        if char in _SEPARATORS:
            return f"contains a line or paragraph separator ({code}) at position {position}"
    return None


def _optional_text(value: str, info: ValidationInfo) -> str:
    if _trusted(info):
        return value
    problem = refused_character(value)
    if problem is not None:
        raise ValueError(f"text {problem}")
    if value and not value.strip():
        raise ValueError("text must not be blank (whitespace only)")
    return value


def _text(value: str, info: ValidationInfo) -> str:
    if not _trusted(info) and not value.strip():
        raise ValueError("text must not be empty or blank (whitespace only)")
    return _optional_text(value, info)


Text = Annotated[str, AfterValidator(_text)]
OptionalText = Annotated[str, AfterValidator(_optional_text)]


# ---------------------------------------------------------------------- email

MAX_EMAIL_CHARS = 254


def _email(value: str, info: ValidationInfo) -> str:
    if _trusted(info):
        return value
    try:
        # The same checks as pydantic's EmailStr, without its display-name parsing and
        # without keeping the normalised form: the address is stored as given.
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as error:
        raise ValueError(f"not a valid email address: {error}") from None
    return value


Email = Annotated[
    str,
    Field(max_length=MAX_EMAIL_CHARS, json_schema_extra={"format": "email"}),
    AfterValidator(_email),
]


# ---------------------------------------------------------------------- URLs

MAX_URL_CHARS = 2_000
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_IPV4_PART = re.compile(r"^(0[xX][0-9a-fA-F]*|[0-9]+)$")


def _ipv4_like(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address a browser reads `host` as (WHATWG URL: when its last label is a
    number, the host is an IPv4 address in any of the legacy forms: `127.1`, `0x7f.1`,
    `2130706433`, `0177.0.0.1`); None when the host is a name. Raises ValueError when it is
    number-like but no valid address (browsers refuse such a URL too)."""
    parts = host.split(".")
    if parts[-1] == "" and len(parts) > 1:
        parts = parts[:-1]
    if not _IPV4_PART.match(parts[-1]):
        return None
    if len(parts) > 4 or not all(_IPV4_PART.match(p) for p in parts):
        raise ValueError(f"host {host!r} is neither a name nor an IPv4 address")
    numbers = []
    for part in parts:
        if part[:2].lower() == "0x":
            numbers.append(int(part[2:] or "0", 16))
        elif len(part) > 1 and part.startswith("0"):
            if not all(c in "01234567" for c in part):
                raise ValueError(f"host {host!r} has an invalid octal number")
            numbers.append(int(part, 8))
        else:
            numbers.append(int(part))
    *leading, last = numbers
    if any(n > 255 for n in leading) or last >= 256 ** (5 - len(numbers)):
        raise ValueError(f"host {host!r} is not a valid IPv4 address")
    address = last
    for i, n in enumerate(leading):
        address += n << (8 * (3 - i))
    return ipaddress.IPv4Address(address)


def _refused_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None and _refused_address(embedded):
            return True
    # is_global is False for private, loopback, link-local (169.254.0.0/16, so the cloud
    # metadata address), unique-local (fc00::/7), unspecified, shared and reserved ranges.
    return not address.is_global or address.is_multicast


def _check_host(raw_host: str) -> None:
    """Refuse a host the platform must not fetch from. Names are not resolved: a name that
    resolves to a private address (DNS rebinding included) is the fetcher's concern."""
    if raw_host.startswith("["):
        if not raw_host.endswith("]"):
            raise ValueError("the IPv6 host is not closed by ']'")
        try:
            v6 = ipaddress.IPv6Address(raw_host[1:-1])
        except ValueError:
            raise ValueError(f"host {raw_host} is not an IPv6 address") from None
        if _refused_address(v6):
            raise ValueError(f"host {raw_host} is not a public address")
        return
    try:
        # What a browser would look up: IDNA maps e.g. full-width digits and dots to ASCII.
        host = raw_host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise ValueError(f"host {raw_host!r} is not a valid host name") from None
    v4 = _ipv4_like(host)
    if v4 is not None:
        if _refused_address(v4):
            raise ValueError(f"host {raw_host} is not a public address")
        return
    name = host.removesuffix(".")
    labels = name.split(".")
    if len(name) > 253 or not all(_LABEL.match(label) for label in labels):
        raise ValueError(f"host {raw_host!r} is not a valid host name")
    if labels[-1] == "localhost":
        raise ValueError(f"host {raw_host} is a loopback name")


def _url(value: str, info: ValidationInfo) -> str:
    if _trusted(info):
        return value
    _check_host(_url_host(value))
    return value


def _site_url(value: str, info: ValidationInfo) -> str:
    if not _trusted(info):
        _url_host(value)
    return value


def _url_host(value: str) -> str:
    """The host of a URL whose shape follows the rules (ValueError naming what does not)."""
    if any(c.isspace() for c in value):
        raise ValueError("a URL must not contain whitespace")
    problem = refused_character(value)
    if problem is not None:
        raise ValueError(f"the URL {problem}")
    if "\\" in value:  # browsers read it as '/', urllib does not: refused, not guessed
        raise ValueError("a URL must not contain a backslash")
    scheme, separator, _ = value.partition("://")
    if not separator or scheme.lower() not in ("http", "https"):
        raise ValueError("a URL must start with http:// or https://")
    netloc = urllib.parse.urlsplit(value).netloc
    if "@" in netloc:
        raise ValueError("a URL must not contain user info (user@host)")
    if netloc.startswith("["):  # an IPv6 literal, then maybe a port
        end = netloc.find("]") + 1
        host, rest = (netloc[:end], netloc[end:]) if end else (netloc, "")
    else:
        host, colon, port = netloc.partition(":")
        rest = colon + port
    if rest and not (re.fullmatch(r":[0-9]{0,5}", rest) and int(rest[1:] or 0) <= 65535):
        raise ValueError(f"the URL's port is not a port number: {rest!r}")
    if not host:
        raise ValueError("a URL must have a host")
    if "%" in host:
        raise ValueError("a URL's host must not be percent-encoded")
    return host


WebUrl = Annotated[
    str,
    Field(max_length=MAX_URL_CHARS, json_schema_extra={"pattern": "^https?://"}),
    AfterValidator(_url),
]

# A restaurant's own website (Step 1 fetches it): the same shape as `WebUrl`, but its host is
# the fetcher's to judge (clients.website: resolved, private ranges refused where deployed,
# loopback allowed for the local runtime's sample sites).
SiteUrl = Annotated[
    str,
    Field(max_length=MAX_URL_CHARS, json_schema_extra={"pattern": "^https?://"}),
    AfterValidator(_site_url),
]
