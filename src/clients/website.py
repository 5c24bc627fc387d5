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
cause.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import urllib3
from urllib3.exceptions import HTTPError as Urllib3Error

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_CHUNK = 64 * 1024


class SiteUnreachableError(Exception):
    """The website could not be read (the message says why)."""


@dataclass(frozen=True)
class FetchedPage:
    url: str  # after redirects
    status: int
    content_type: str
    text: str


def _refused_address(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
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
    ) -> None:
        self._timeout_s = timeout_s
        self._max_bytes = max_bytes
        self._max_redirects = max_redirects
        self._allow_private = allow_private
        self._user_agent = user_agent

    def fetch(self, url: str) -> FetchedPage:
        deadline = time.monotonic() + self._timeout_s
        current = url
        for _ in range(self._max_redirects + 1):
            response = self._get(current, deadline)
            try:
                if response.status in (301, 302, 303, 307, 308):
                    location = response.headers.get("Location")
                    if not location:
                        raise SiteUnreachableError(
                            f"{current} redirected ({response.status}) without a Location"
                        )
                    current = urljoin(current, location)
                    continue
                return self._page(current, response, deadline)
            finally:
                response.release_conn()
        raise SiteUnreachableError(f"{url} redirected more than {self._max_redirects} times")

    def _get(self, url: str, deadline: float) -> urllib3.BaseHTTPResponse:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise SiteUnreachableError(f"{url} is not an http(s) address")
        host = parts.hostname
        if not host:
            raise SiteUnreachableError(f"{url} has no host")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as error:
            raise SiteUnreachableError(f"{url} has an invalid port") from error
        address = self._address(host, port)
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
        host_header = host if parts.port is None else f"{host}:{parts.port}"
        try:
            return pool.urlopen(
                "GET",
                path,
                headers={
                    "Host": host_header,
                    "User-Agent": self._user_agent,
                    "Accept": "text/html,application/xhtml+xml",
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

    def _address(self, host: str, port: int) -> str:
        """The address to connect to: the first the host resolves to, each one checked."""
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as error:
            raise SiteUnreachableError(f"could not resolve host {host}") from error
        addresses = [str(info[4][0]) for info in infos]
        if not addresses:
            raise SiteUnreachableError(f"could not resolve host {host}")
        if not self._allow_private:
            refused = [a for a in addresses if _refused_address(a)]
            if refused:
                raise SiteUnreachableError(
                    f"{host} resolves to a private or reserved address ({refused[0]}): refused"
                )
        return addresses[0]

    def _page(self, url: str, response: urllib3.BaseHTTPResponse, deadline: float) -> FetchedPage:
        if not 200 <= response.status < 300:
            raise SiteUnreachableError(
                f"{url} answered {response.status} {response.reason or ''}".strip()
            )
        declared = response.headers.get("Content-Type", "")
        content_type = declared.split(";")[0].strip().lower()
        if content_type not in HTML_TYPES:
            raise SiteUnreachableError(f"{url} is not an HTML page ({content_type or 'no type'})")
        length = response.headers.get("Content-Length")
        if length and length.isdigit() and int(length) > self._max_bytes:
            raise SiteUnreachableError(f"{url} is larger than {self._max_bytes:,} bytes")
        body = bytearray()
        try:
            for chunk in response.stream(_CHUNK):
                body += chunk
                if len(body) > self._max_bytes:
                    raise SiteUnreachableError(f"{url} is larger than {self._max_bytes:,} bytes")
                if time.monotonic() > deadline:
                    raise SiteUnreachableError(f"{url} did not answer within {self._timeout_s:g} s")
        except (TimeoutError, urllib3.exceptions.TimeoutError) as error:
            raise SiteUnreachableError(
                f"{url} did not answer within {self._timeout_s:g} s"
            ) from error
        except (Urllib3Error, OSError) as error:
            raise SiteUnreachableError(
                f"{url} broke off its answer ({type(error).__name__})"
            ) from error
        charset = "utf-8"
        for part in declared.split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset" and value:
                charset = value.strip("'\"")
        try:
            text = bytes(body).decode(charset, errors="replace")
        except LookupError:
            text = bytes(body).decode("utf-8", errors="replace")
        return FetchedPage(url=url, status=response.status, content_type=content_type, text=text)
