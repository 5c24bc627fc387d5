"""`make serve`'s server (`python -m local.server`) as a subprocess of its own, for the tests of
the real process: on a free port (PORT=0), everything it prints written to a log file."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from local.template import PROJECT_ROOT

# The line the server prints once it listens.
LISTENING = re.compile(r"API on (http://127\.0\.0\.1:\d+)")


def start_server(log: Path, env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
    """The server started with `env` on top of this process's environment; the caller stops it."""
    settings = {"PORT": "0", "PYTHONPATH": str(PROJECT_ROOT / "src"), **(env or {})}
    with log.open("wb") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "local.server"],
            cwd=PROJECT_ROOT,
            env=os.environ | settings,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )


def url_in_log(log: Path) -> str | None:
    """The server's URL once it has said it listens, else None."""
    found = LISTENING.search(log.read_text())
    return found.group(1) if found else None
