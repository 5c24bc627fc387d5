"""The website fetcher of Step 1: the same code deployed and locally.

Only http and https; at most `max_redirects` redirects, each hop checked again; a total
deadline of `timeout_s`; the body read up to `max_bytes` (larger: refused); HTML only
(`text/html`, `application/xhtml+xml`); a non-2xx answer is refused. With
`allow_private=False` (deployed) the host is resolved and every address must be global (no
loopback, private, link-local, unique-local, shared, reserved, multicast or unspecified
address, IPv4-mapped ones included), and the connection goes to the address that was checked
(the Host header and TLS name stay the host's), so a DNS answer cannot change between the
check and the connection. The local runtime allows private addresses: its sample sites are on
127.0.0.1.

Every failure is a `SiteUnreachableError` whose message says why in words, raised from its
cause: `SiteUnreachableError` itself for what may pass (no connection, a timeout, a 5xx, 408 or
429), its subclass `SiteRefusedError` for what will not (a 4xx, not HTML, too large, a refused
address or scheme), which the state machine does not retry.

Compressed answers (gzip, deflate) are read compressed up to `max_bytes`, then inflated to at
most `max_bytes`: a small compressed body cannot unpack into a huge one.

The host's resolution counts against the deadline too: `getaddrinfo` has no timeout of its
own (a resolver that does not answer holds it for its own retries, tens of seconds), so it
runs in a daemon thread that the fetch stops waiting for when the deadline passes.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import urllib3
from urllib3.exceptions import HTTPError as Urllib3Error

# socket.getaddrinfo's shape: (host, port) -> [(family, type, proto, canonname, sockaddr)].
Resolver = Callable[[str, int], Sequence[tuple[Any, ...]]]
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_CHUNK = 64 * 1024


class SiteUnreachableError(Exception):
    """The website could not be read (the message says why); trying again later may help."""


class SiteRefusedError(SiteUnreachableError):
    """The website's answer, or its address, will not do: trying again as it is cannot help."""


@dataclass(frozen=True)
class FetchedPage:
    url: str  # after redirects
    status: int
    content_type: str
    text: str


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _refused_address(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        # an IPv4 address inside an IPv6 one (mapped, 6to4, NAT64) is judged as that address
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return _refused_address(str(embedded))
    return not ip.is_global or ip.is_multicast


class WebsiteFetcher:
    def __init__(
        self,
        *,
        timeout_s: float = 10.0,
        max_bytes: int = 2_000_000,
        max_redirects: int = 5,
        allow_private: bool = False,
        user_agent: str = "PumpdOnboarding/1.0 (+restaurant onboarding)",
        resolve: Resolver | None = None,
    ) -> None:
        self._timeout_s = timeout_s
        self._max_bytes = max_bytes
        self._max_redirects = max_redirects
        self._allow_private = allow_private
        self._user_agent = user_agent
        self._resolve: Resolver = resolve or _getaddrinfo

    def fetch(self, url: str) -> FetchedPage:
        deadline = time.monotonic() + self._timeout_s
        current = url
        for _ in range(self._max_redirects + 1):
            response = self._get(current, deadline)
            try:
                if response.status in (301, 302, 303, 307, 308):
                    location = response.headers.get("Location")
                    if not location:
                        raise SiteRefusedError(
                            f"{current} redirected ({response.status}) without a Location"
                        )
                    current = urljoin(current, location)
                    continue
                return self._page(current, response, deadline)
            finally:
                response.release_conn()
        raise SiteRefusedError(f"{url} redirected more than {self._max_redirects} times")

    def _get(self, url: str, deadline: float) -> urllib3.BaseHTTPResponse:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise SiteRefusedError(f"{url} is not an http(s) address")
        host = parts.hostname
        if not host:
            raise SiteRefusedError(f"{url} has no host")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as error:
            raise SiteRefusedError(f"{url} has an invalid port") from error
        address = self._address(host, port, deadline)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise SiteUnreachableError(f"{url} did not answer within {self._timeout_s:g} s")
        timeout = urllib3.Timeout(connect=remaining, read=remaining)
        pool: urllib3.HTTPConnectionPool
        if parts.scheme == "https":
            pool = urllib3.HTTPSConnectionPool(
                address,
                port,
                timeout=timeout,
                retries=False,
                server_hostname=host,
                assert_hostname=host,
                cert_reqs="CERT_REQUIRED",
            )
        else:
            pool = urllib3.HTTPConnectionPool(address, port, timeout=timeout, retries=False)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        named = f"[{host}]" if ":" in host else host  # an IPv6 literal keeps its brackets
        host_header = named if parts.port is None else f"{named}:{parts.port}"
        try:
            return pool.urlopen(
                "GET",
                path,
                headers={
                    "Host": host_header,
                    "User-Agent": self._user_agent,
                    "Accept": "text/html,application/xhtml+xml",
                    "Accept-Encoding": "gzip, deflate",
                },
                redirect=False,
                preload_content=False,
                assert_same_host=False,
            )
        except (TimeoutError, urllib3.exceptions.TimeoutError) as error:
            raise SiteUnreachableError(
                f"{url} did not answer within {self._timeout_s:g} s"
            ) from error
        except (Urllib3Error, OSError) as error:
            raise SiteUnreachableError(
                f"{url} could not be reached ({type(error).__name__})"
            ) from error

    def _address(self, host: str, port: int, deadline: float) -> str:
        """The address to connect to: the first the host resolves to, each one checked."""
        infos = self._resolved(host, port, deadline)
        addresses = [str(info[4][0]) for info in infos]
        if not addresses:
            raise SiteUnreachableError(f"could not resolve host {host}")
        if not self._allow_private:
            refused = [a for a in addresses if _refused_address(a)]
            if refused:
                raise SiteRefusedError(
                    f"{host} resolves to a private or reserved address ({refused[0]}): refused"
                )
        return addresses[0]

    def _resolved(self, host: str, port: int, deadline: float) -> Sequence[tuple[Any, ...]]:
        """`resolve(host, port)` within the deadline. The thread is a daemon: one left
        waiting on a silent resolver ends with its process, holding nothing of this fetch."""
        answer: list[Sequence[tuple[Any, ...]]] = []
        failure: list[BaseException] = []

        def resolve() -> None:
            try:
                answer.append(self._resolve(host, port))
            except (OSError, UnicodeError) as error:  # socket.gaierror is an OSError
                failure.append(error)

        worker = threading.Thread(target=resolve, name=f"resolve {host}", daemon=True)
        worker.start()
        worker.join(max(0.0, deadline - time.monotonic()))
        if failure:
            raise SiteUnreachableError(f"could not resolve host {host}") from failure[0]
        if not answer:
            raise SiteUnreachableError(
                f"could not resolve host {host} within {self._timeout_s:g} s"
            )
        return answer[0]

    def _page(self, url: str, response: urllib3.BaseHTTPResponse, deadline: float) -> FetchedPage:
        if not 200 <= response.status < 300:
            said = f"{url} answered {response.status} {response.reason or ''}".strip()
            passing = response.status >= 500 or response.status in (408, 429)
            raise (SiteUnreachableError if passing else SiteRefusedError)(said)
        declared = response.headers.get("Content-Type", "")
        content_type = declared.split(";")[0].strip().lower()
        if content_type not in HTML_TYPES:
            raise SiteRefusedError(f"{url} is not an HTML page ({content_type or 'no type'})")
        too_large = f"{url} is larger than {self._max_bytes:,} bytes"
        length = response.headers.get("Content-Length")
        if length and length.isdigit() and int(length) > self._max_bytes:
            raise SiteRefusedError(too_large)
        encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding not in ("identity", "gzip", "deflate"):
            raise SiteRefusedError(f"{url} answered in an encoding not asked for ({encoding})")
        late = f"{url} did not answer within {self._timeout_s:g} s"
        body = bytearray()
        try:
            # read1: at most one receive per read, so the deadline is checked between receives
            # (a server dripping a byte at a time cannot hold the read past it)
            while chunk := response.read1(_CHUNK, decode_content=False):
                body += chunk
                if len(body) > self._max_bytes:
                    raise SiteRefusedError(too_large)
                if time.monotonic() > deadline:
                    raise SiteUnreachableError(late)
        except (TimeoutError, urllib3.exceptions.TimeoutError) as error:
            raise SiteUnreachableError(late) from error
        except (Urllib3Error, OSError) as error:
            broken = f"{url} broke off its answer ({type(error).__name__})"
            raise SiteUnreachableError(broken) from error
        raw = self._inflated(bytes(body), encoding, too_large)
        charset = "utf-8"
        for part in declared.split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset" and value:
                charset = value.strip("'\"")
        try:
            text = raw.decode(charset, errors="replace")
        except LookupError:
            text = raw.decode("utf-8", errors="replace")
        return FetchedPage(url=url, status=response.status, content_type=content_type, text=text)

    def _inflated(self, body: bytes, encoding: str, too_large: str) -> bytes:
        """The body unpacked to at most `max_bytes` (more: refused, never unpacked whole)."""
        if encoding == "identity":
            return body
        wbits = 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS
        inflater = zlib.decompressobj(wbits)
        try:
            raw = inflater.decompress(body, self._max_bytes + 1)
        except zlib.error as error:
            raise SiteRefusedError(f"the page's {encoding} body is corrupt") from error
        if len(raw) > self._max_bytes or inflater.unconsumed_tail:
            raise SiteRefusedError(too_large)
        return raw


def _getaddrinfo(host: str, port: int) -> Sequence[tuple[Any, ...]]:
    return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
