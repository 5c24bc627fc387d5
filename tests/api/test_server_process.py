"""`python -m local.server` (what `make serve` runs) stops on SIGTERM and Ctrl-C, with every
process it started, within 5 s; a second signal while it stops does not hang it."""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest

from local.template import PROJECT_ROOT

pytestmark = pytest.mark.integration

STOP_DEADLINE_S = 5.0
BOOT_DEADLINE_S = 90.0

# A server that has started a process of its own (as the runtime's Lambda workers will be).
WITH_A_CHILD = (
    "import subprocess, sys\n"
    "from local import server\n"
    "child = subprocess.Popen(['sleep', '300'])\n"
    "sys.exit(server.main())\n"
)


# A server whose shutdown hangs (as a runtime that never stops would).
HUNG_STOP = (
    "import sys, threading\n"
    "from local import server\n"
    "server.LocalServer.stop = lambda self: threading.Event().wait(60)\n"
    "sys.exit(server.main())\n"
)


@contextmanager
def serve(tmp_path: Path, *args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """The server in a subprocess on a free port; yields it and its URL once it answers."""
    env = os.environ | {"PORT": "0", "PYTHONPATH": str(PROJECT_ROOT / "src")}
    with (tmp_path / "stderr.log").open("w") as errors:
        process = subprocess.Popen(
            [sys.executable, *(args or ("-m", "local.server"))],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
        try:
            url = _url_from_stdout(process, tmp_path / "stderr.log")
            assert _status(url + "/registration-batches") == 401  # it answers
            yield process, url
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
            assert process.stdout is not None
            process.stdout.close()


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return error.code


def _url_from_stdout(process: subprocess.Popen[str], errors: Path) -> str:
    found = _line_matching(process, r"API on (http://127\.0\.0\.1:\d+)", BOOT_DEADLINE_S)
    if found is None:
        raise AssertionError(f"the server printed no URL: {errors.read_text()[-3000:]}")
    return found.group(1)


def _line_matching(
    process: subprocess.Popen[str], pattern: str, deadline_s: float
) -> re.Match[str] | None:
    """The first line the process prints that matches, or None at the deadline or its exit.

    Lines come from a reader thread (`_lines_of`): a select() on the pipe would miss lines
    already read ahead into the text wrapper's buffer and wait for data that never comes."""
    lines = _lines_of(process)
    deadline = time.monotonic() + deadline_s
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            return None
        if line is None:  # it exited
            return None
        found = re.search(pattern, line)
        if found:
            return found
    return None


_READERS: dict[int, queue.Queue[str | None]] = {}


def _lines_of(process: subprocess.Popen[str]) -> queue.Queue[str | None]:
    """The process's stdout, line by line, read by a thread of its own (None: the end)."""
    if process.pid not in _READERS:
        lines: queue.Queue[str | None] = queue.Queue()

        def read() -> None:
            assert process.stdout is not None
            with contextlib.suppress(ValueError, OSError):  # closed when the test ends
                for line in process.stdout:
                    lines.put(line)
            lines.put(None)

        threading.Thread(target=read, daemon=True).start()
        _READERS[process.pid] = lines
    return _READERS[process.pid]


def _stopped_within(process: subprocess.Popen[str], deadline_s: float) -> tuple[int, float]:
    started = time.monotonic()
    code = process.wait(timeout=deadline_s)
    return code, time.monotonic() - started


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_the_server_cleanly_within_5_s(
    tmp_path: Path, signum: signal.Signals
) -> None:
    # given a running server that answers, and the processes it started
    with serve(tmp_path) as (process, _):
        children = psutil.Process(process.pid).children(recursive=True)
        # when it gets the signal
        process.send_signal(signum)
        # then it exits with 0 within the deadline, leaving none of its processes behind
        code, took = _stopped_within(process, STOP_DEADLINE_S)
        assert code == 0, (tmp_path / "stderr.log").read_text()[-3000:]
        assert took < STOP_DEADLINE_S
        assert not [c for c in children if c.is_running()]


def test_a_second_sigterm_while_stopping_does_not_hang(tmp_path: Path) -> None:
    # given a running server
    with serve(tmp_path) as (process, _):
        # when two SIGTERMs arrive back to back
        process.send_signal(signal.SIGTERM)
        process.send_signal(signal.SIGTERM)
        # then it is gone within the deadline: cleanly, or forced by the second signal
        code, _ = _stopped_within(process, STOP_DEADLINE_S)
        assert code in (0, 128 + signal.SIGTERM)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_the_processes_the_server_started_stop_with_it(
    tmp_path: Path, signum: signal.Signals
) -> None:
    # given a server that has started a process of its own
    with serve(tmp_path, "-c", WITH_A_CHILD) as (process, _):
        children = psutil.Process(process.pid).children(recursive=True)
        # (besides its runtime's: the function workers, DynamoDB Local)
        assert "sleep" in [c.name() for c in children]
        try:
            # when it is stopped
            process.send_signal(signum)
            # then that process is gone too, within the deadline
            code, _ = _stopped_within(process, STOP_DEADLINE_S)
            assert code == 0
            _, alive = psutil.wait_procs(children, timeout=1)
            assert not alive
        finally:
            for child in children:
                with contextlib.suppress(psutil.Error):
                    child.kill()


def test_a_shutdown_that_hangs_still_ends_within_5_s(tmp_path: Path) -> None:
    # given a server whose shutdown hangs
    with serve(tmp_path, "-c", HUNG_STOP) as (process, _):
        # when it gets SIGTERM
        process.send_signal(signal.SIGTERM)
        # then the watchdog ends it within the deadline, reporting the failure
        code, _ = _stopped_within(process, STOP_DEADLINE_S)
        assert code == 1


def test_a_second_signal_during_a_hung_shutdown_exits_at_once(tmp_path: Path) -> None:
    # given a server stopping after a SIGTERM, its shutdown hung
    with serve(tmp_path, "-c", HUNG_STOP) as (process, _):
        process.send_signal(signal.SIGTERM)
        assert _line_matching(process, "stopping", STOP_DEADLINE_S) is not None
        # when a second SIGTERM arrives
        process.send_signal(signal.SIGTERM)
        # then it exits at once (before the watchdog would), as a process killed by SIGTERM
        code, took = _stopped_within(process, STOP_DEADLINE_S)
        assert code == 128 + signal.SIGTERM and took < 2, (code, took)
