"""Step 1's fetcher (clients.website) against small servers on 127.0.0.1: what it follows, what
it refuses, and that every refusal says why. Servers stop by themselves (daemon threads)."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from clients.website import (
    SiteRefusedError,
    SiteUnreachableError,
    WebsiteFetcher,
    _refused_address,
)
from domain.site_facts import read_site
from local.site_server import SAMPLE_SITES, SiteServer

Route = Callable[[BaseHTTPRequestHandler], None]


def _answer(status: int, body: bytes = b"", **headers: str) -> Route:
    def respond(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        given = {name.replace("_", "-"): value for name, value in headers.items()}
        for name, value in ({"Content-Type": "text/html; charset=utf-8"} | given).items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return respond


class _Server:
    def __init__(self, routes: dict[str, Route]) -> None:
        self.routes = routes
        self.release = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                route = owner.routes.get(self.path)
                if route is None:
                    _answer(404, b"not here")(self)
                else:
                    route(self)

            def log_message(self, *args: Any) -> None:
                return

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http.daemon_threads = True
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.http.server_address[1]}{path}"


@pytest.fixture
def server() -> Iterator[_Server]:
    found = _Server({})
    yield found
    found.release.set()
    found.http.shutdown()
    found.http.server_close()


def local_fetcher(**options: Any) -> WebsiteFetcher:
    return WebsiteFetcher(allow_private=True, **({"timeout_s": 2.0} | options))


def test_an_html_page_is_read_with_its_charset(server: _Server) -> None:
    server.routes["/"] = _answer(
        200, "Café".encode("latin-1"), Content_Type="text/html; charset=latin-1"
    )

    page = local_fetcher().fetch(server.url("/"))

    assert (page.status, page.content_type, page.text) == (200, "text/html", "Café")


def test_redirects_are_followed_relative_ones_included(server: _Server) -> None:
    server.routes["/old"] = _answer(301, Location="/new")
    server.routes["/new"] = _answer(302, Location=server.url("/final"))
    server.routes["/final"] = _answer(200, b"<p>here</p>")

    page = local_fetcher().fetch(server.url("/old"))

    assert page.url == server.url("/final") and "here" in page.text


def test_a_redirect_loop_is_refused_after_the_bound(server: _Server) -> None:
    server.routes["/a"] = _answer(302, Location="/b")
    server.routes["/b"] = _answer(302, Location="/a")

    with pytest.raises(SiteUnreachableError, match="redirected more than 3 times"):
        local_fetcher(max_redirects=3).fetch(server.url("/a"))


@pytest.mark.parametrize(("status", "words"), [(404, "404"), (500, "500"), (403, "403")])
def test_a_non_2xx_answer_is_refused_naming_it(server: _Server, status: int, words: str) -> None:
    server.routes["/"] = _answer(status, b"no")

    with pytest.raises(SiteUnreachableError, match=words):
        local_fetcher().fetch(server.url("/"))


def test_a_page_that_is_not_html_is_refused(server: _Server) -> None:
    server.routes["/logo.png"] = _answer(200, b"\x89PNG", Content_Type="image/png")

    with pytest.raises(SiteUnreachableError, match=r"not an HTML page \(image/png\)"):
        local_fetcher().fetch(server.url("/logo.png"))


def test_a_body_over_the_limit_is_refused_declared_or_not(server: _Server) -> None:
    big = b"<p>" + b"x" * 50_000 + b"</p>"
    server.routes["/declared"] = _answer(200, big)

    def undeclared(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.end_headers()
        handler.wfile.write(big)

    server.routes["/undeclared"] = undeclared
    for path in ("/declared", "/undeclared"):
        with pytest.raises(SiteUnreachableError, match="larger than 10,000 bytes"):
            local_fetcher(max_bytes=10_000).fetch(server.url(path))


def test_a_server_that_does_not_answer_in_time_is_refused(server: _Server) -> None:
    def stall(handler: BaseHTTPRequestHandler) -> None:
        server.release.wait(10)  # released when the test ends

    server.routes["/slow"] = stall

    with pytest.raises(SiteUnreachableError, match=r"did not answer within 0\.5 s"):
        local_fetcher(timeout_s=0.5).fetch(server.url("/slow"))


@pytest.mark.parametrize(
    "url", ["ftp://example.com/", "file:///etc/passwd", "javascript:alert(1)", "http:///nohost"]
)
def test_only_http_and_https_with_a_host_are_fetched(url: str) -> None:
    with pytest.raises(SiteUnreachableError):
        WebsiteFetcher().fetch(url)


def test_an_unresolvable_host_is_unreachable() -> None:
    with pytest.raises(SiteUnreachableError, match="could not resolve host"):
        WebsiteFetcher().fetch("http://no-such-host.invalid/")


def test_a_resolver_that_does_not_answer_cannot_hold_the_fetch_past_the_deadline() -> None:
    # given a resolver that answers only when the test lets it (a DNS server gone silent)
    released = threading.Event()
    asked: list[str] = []

    def silent(host: str, port: int) -> list[tuple[Any, ...]]:
        asked.append(host)
        released.wait(30)
        return []

    fetcher = WebsiteFetcher(timeout_s=0.5, resolve=silent)
    # when the page is fetched
    started = time.monotonic()
    try:
        with pytest.raises(SiteUnreachableError, match=r"resolve host menu\.example within") as got:
            fetcher.fetch("https://menu.example/")
        elapsed = time.monotonic() - started
    finally:
        released.set()
    # then it gave up at its deadline, not the resolver's, and the failure may pass later
    assert asked == ["menu.example"]
    assert elapsed < 5.0
    assert type(got.value) is SiteUnreachableError  # not SiteRefusedError: it is retried


def test_deployed_a_loopback_host_is_refused_before_any_request(server: _Server) -> None:
    asked: list[str] = []
    server.routes["/"] = lambda handler: asked.append("asked")

    with pytest.raises(SiteUnreachableError, match="private or reserved address"):
        WebsiteFetcher(allow_private=False).fetch(server.url("/"))
    assert asked == []


def test_deployed_the_instance_metadata_address_is_refused() -> None:
    with pytest.raises(SiteUnreachableError, match="private or reserved"):
        WebsiteFetcher(allow_private=False).fetch("http://169.254.169.254/latest/meta-data/")


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("127.0.0.1", True),
        ("10.1.2.3", True),
        ("192.168.0.1", True),
        ("169.254.169.254", True),
        ("100.64.0.1", True),
        ("::1", True),
        ("fd00::1", True),
        ("::ffff:127.0.0.1", True),
        ("224.0.0.1", True),
        ("0.0.0.0", True),
        ("93.184.216.34", False),
        ("2606:2800:220:1::", False),
    ],
)
def test_which_addresses_are_private(address: str, refused: bool) -> None:
    assert _refused_address(address) is refused


@pytest.mark.parametrize("slug", sorted(SAMPLE_SITES))
def test_each_sample_site_is_served_and_read_end_to_end(slug: str) -> None:
    with SiteServer() as sites:
        page = local_fetcher().fetch(sites.url(slug))
        assert page.status == 200 and page.url == sites.url(slug)
    if slug == "corner-cafe":
        return  # no menu (test_site_facts says so)
    assert read_site(page.text, page.url).categories


def test_a_gzip_page_is_read_and_a_gzip_bomb_is_refused(server: _Server) -> None:
    page = gzip.compress(b"<p>small and compressed</p>")
    bomb = gzip.compress(b"<p>" + b"a" * 5_000_000)  # ~5 KB that unpacks into 5 MB
    server.routes["/page"] = _answer(200, page, Content_Encoding="gzip")
    server.routes["/bomb"] = _answer(200, bomb, Content_Encoding="gzip")

    assert "small and compressed" in local_fetcher().fetch(server.url("/page")).text
    with pytest.raises(SiteRefusedError, match="larger than 1,000,000 bytes"):
        local_fetcher(max_bytes=1_000_000).fetch(server.url("/bomb"))


def test_a_server_dripping_bytes_cannot_hold_the_read_past_the_deadline(server: _Server) -> None:
    def drip(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.end_headers()
        while not server.release.wait(0.2):  # a byte every 0.2 s, until the test ends
            handler.wfile.write(b"x")
            handler.wfile.flush()

    server.routes["/drip"] = drip
    started = time.monotonic()

    with pytest.raises(SiteUnreachableError, match=r"did not answer within 1 s"):
        local_fetcher(timeout_s=1.0).fetch(server.url("/drip"))
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("status", "refused"), [(404, True), (410, True), (500, False), (503, False), (429, False)]
)
def test_only_answers_that_may_pass_are_worth_a_retry(
    server: _Server, status: int, refused: bool
) -> None:
    server.routes["/"] = _answer(status, b"no")

    with pytest.raises(SiteUnreachableError) as raised:
        local_fetcher().fetch(server.url("/"))

    assert isinstance(raised.value, SiteRefusedError) is refused


@pytest.mark.parametrize("address", ["64:ff9b::a9fe:a9fe", "2002:a9fe:a9fe::1", "2002:7f00:1::"])
def test_ipv4_addresses_inside_ipv6_are_judged_as_themselves(address: str) -> None:
    assert _refused_address(address)
