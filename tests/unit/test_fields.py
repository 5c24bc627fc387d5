"""The input string types (state.fields): what each refuses, that nothing is rewritten, and
that stored data is read back whatever rules it was stored under (docs/architecture.md §8.1)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from state.fields import TRUSTED_STORED, Email, OptionalText, Text, WebUrl
from state.models import Job, Restaurant
from tests.factories import make_job, make_restaurant

URL = TypeAdapter(WebUrl)
TEXT = TypeAdapter(Text)
OPTIONAL_TEXT = TypeAdapter(OptionalText)
EMAIL = TypeAdapter(Email)


@pytest.mark.parametrize(
    "url",
    [
        "https://cafe-aroha.example/logo.png",
        "http://x.example:8080/a?b=1#c",
        "HTTPS://Cafe-Aroha.Example/Logo.PNG",
        "https://xn--caf-dma.example/",
        "https://café.example/é.png",
        "https://8.8.8.8/x.png",
        "https://[2001:4860:4860::8888]/x.png",
        "https://example.com.:443/",
    ],
)
def test_public_http_urls_are_kept_exactly_as_given(url: str) -> None:
    assert URL.validate_python(url) == url


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://", "must have a host"),
        ("https://x.example\njavascript:alert(1)", "whitespace"),
        ("https://x.example/\x00", "control"),
        ("https://x.example/\u202e", "bidi"),
        ("javascript:alert(1)", "http:// or https://"),
        ("https:/x.example", "http:// or https://"),
        ("//x.example/a.png", "http:// or https://"),
        ("ftp://x.example/a.png", "http:// or https://"),
        ("http://127.0.0.1/", "not a public address"),
        ("http://169.254.169.254/latest/meta-data/", "not a public address"),
        ("http://10.0.0.1/", "not a public address"),
        ("http://172.16.0.1/", "not a public address"),
        ("http://192.168.1.1/", "not a public address"),
        ("http://100.64.0.1/", "not a public address"),
        ("http://0.0.0.0/", "not a public address"),
        ("http://224.0.0.1/", "not a public address"),
        ("http://[::1]/", "not a public address"),
        ("http://[::]/", "not a public address"),
        ("http://[fc00::1]/", "not a public address"),
        ("http://[fe80::1]/", "not a public address"),
        ("http://[::ffff:127.0.0.1]/", "not a public address"),
        ("http://[2002:7f00:1::]/", "not a public address"),
        ("http://2130706433/", "not a public address"),
        ("http://0x7f.1/", "not a public address"),
        ("http://127.1/", "not a public address"),
        ("http://0177.0.0.1/", "not a public address"),
        ("http://\uff11\uff12\uff17.\uff10.\uff10.\uff11/", "not a public address"),
        ("http://localhost/", "loopback name"),
        ("http://LOCALHOST./", "loopback name"),
        ("http://app.localhost/", "loopback name"),
        ("http://[fe80::1%25eth0]/", "percent-encoded"),
        ("http://%31%32%37.0.0.1/", "percent-encoded"),
        ("http://127.0.0.1\\@x.example/", "backslash"),
        ("http://user:pw@x.example/", "user info"),
        ("http://x.example:99999/", "port"),
        ("http://x.example:80a/", "port"),
        ("http://x..example/", "not a valid host name"),
        ("http://x_y.example/", "not a valid host name"),
        ("http://example.123/", "neither a name nor an IPv4 address"),
        ("http://256.1.1.1/", "not a valid IPv4 address"),
    ],
)
def test_a_bad_or_non_public_url_is_refused(url: str, why: str) -> None:
    with pytest.raises(ValidationError, match=why):
        URL.validate_python(url)


@pytest.mark.parametrize(
    "text",
    [
        "Cafe Aroha",
        "Café Ōtautahi",
        "寿司 Kitchen",
        "\u05de\u05e1\u05e2\u05d3\u05d4\u200f 1",  # a right-to-left mark: allowed
        "👩\u200d🍳 Kitchen",  # a zero-width joiner: allowed
        " Padded ",  # kept as given, never stripped
    ],
)
def test_text_is_kept_exactly_as_given(text: str) -> None:
    assert TEXT.validate_python(text) == text


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "empty or blank"),
        ("   ", "empty or blank"),
        ("\u3000", "empty or blank"),
        ("a\x00b", "control character \\(U\\+0000\\)"),
        ("a\x1b[31m", "control character \\(U\\+001B\\)"),
        ("a\tb", "control character \\(U\\+0009\\)"),
        ("a\nb", "control character \\(U\\+000A\\)"),
        ("a\x7f", "control character \\(U\\+007F\\)"),
        ("a\x9b", "control character \\(U\\+009B\\)"),
        ("a\u2028b", "separator"),
        ("a\u202eb", "bidi override or isolate \\(U\\+202E\\)"),
        ("a\u202ab", "bidi override or isolate"),
        ("a\u2067b\u2069", "bidi override or isolate"),
        ("a\ud800", "surrogate"),
    ],
)
def test_text_refuses_blank_control_and_bidi_characters(text: str, why: str) -> None:
    with pytest.raises(ValidationError, match=why):
        TEXT.validate_python(text)


def test_optional_text_may_be_empty_but_follows_the_other_rules() -> None:
    assert OPTIONAL_TEXT.validate_python("") == ""
    for text in ("  ", "a\x00", "a\u202e"):
        with pytest.raises(ValidationError):
            OPTIONAL_TEXT.validate_python(text)


@pytest.mark.parametrize(
    "email", ["owner@cafe-aroha.example", "Owner.Name@Cafe-Aroha.EXAMPLE", "kai@kāinga.example"]
)
def test_an_email_is_kept_exactly_as_given(email: str) -> None:
    assert EMAIL.validate_python(email) == email


@pytest.mark.parametrize(
    "email",
    [
        "Bob <bob@x.example>",
        "<bob@x.example>",
        " bob@x.example",
        "bob@x.example\n",
        "bob@localhost",
        "not-an-email",
        "a" * 250 + "@x.example",
    ],
)
def test_an_email_with_a_display_name_or_bad_syntax_is_refused(email: str) -> None:
    with pytest.raises(ValidationError):
        EMAIL.validate_python(email)


def test_stored_data_is_read_back_whatever_rules_it_was_stored_under() -> None:
    # given a job item stored before these rules (a tab in the name, a private logo host)
    item: dict[str, Any] = make_job().model_dump(mode="json")
    item["restaurant"]["name"] = "Old\tName"
    item["restaurant"]["branding"]["logo_url"] = "http://10.0.0.5/logo.png"
    # then the repository's trusted read accepts it, while new input would be refused
    job = Job.model_validate(item, context=TRUSTED_STORED)
    assert job.restaurant.name == "Old\tName"
    with pytest.raises(ValidationError):
        Job.model_validate(item)


def test_stored_values_keep_strict_types() -> None:
    # strictness still holds on a trusted read: a price stays a number
    item = make_restaurant().model_dump(mode="json")
    item["menu"]["categories"][0]["items"][0]["price"] = "5"
    with pytest.raises(ValidationError, match="float"):
        Restaurant.model_validate(item, context=TRUSTED_STORED)
