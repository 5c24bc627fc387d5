"""The sample restaurant websites (`src/local/sites/<slug>/`) served on 127.0.0.1, for Step 1 in
the tests, the demo and `make serve` (nothing at run time reaches the internet).

`SiteServer().start()` binds an ephemeral port; `url(slug)` is a site's address; `stop()` (or
leaving its `with` block) stops it; its threads are daemons, so it never outlives its process.
"""

from __future__ import annotations

import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

SITES_DIR = Path(__file__).resolve().parent / "sites"
SAMPLE_SITES: dict[str, str] = {
    "luigis-trattoria": "JSON-LD Restaurant with its menu (one item without a price), logo, "
    "theme colour, one email and one phone: Step 2 completes from the site",
    "green-bowl": "microdata menu, og:image, CSS custom properties, one email and one phone "
    "written two ways: Step 2 completes",
    "harbour-fish": "JSON-LD @graph, prices written with currency signs, two emails and no "
    "phone: Step 2 waits for the operator",
    "corner-cafe": "a page without any menu markup: Step 1 fails no_menu_found",
    "spice-route": "a JSON-LD Menu without contacts: Step 2 asks the directory",
}


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


class SiteServer:
    def __init__(self, directory: Path = SITES_DIR) -> None:
        self._directory = directory
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> SiteServer:
        if self._server is None:
            handler = partial(_Quiet, directory=str(self._directory))
            server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
            server.daemon_threads = True
            self._server = server
            self._thread = threading.Thread(
                target=server.serve_forever, name="sample-sites", daemon=True
            )
            self._thread.start()
        return self

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def url(self, slug: str) -> str:
        return f"{self.base_url}/{slug}/"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> SiteServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()
