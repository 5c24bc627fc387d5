"""Every function of the template in processes of its own, as Lambda runs them.

`ProcessLambdas` has the interface of `InProcessLambdas` (the local runtime hands it each
`lambda:Invoke` that Step Functions makes, and the status-change events for the reconciler),
but each invocation runs in a worker process (local.worker) of that function: warm workers
are reused, more are started while all are busy (up to `max_per_function`, then the call
waits, like a function at its concurrency limit), and idle ones exit after `idle_s`.
Processes share nothing but the AWS APIs and the platform's HTTP endpoint.

A worker that dies mid-invocation (killed by a simulated crash) answers
`Runtime.ExitError`, as AWS reports a runtime that exited. A worker that outlives its
function's timeout answers `Sandbox.Timedout` and runs on (a late invocation, its outcome in
`late`), and takes no other invocation until it finished.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing import Pipe
from multiprocessing.connection import Connection
from typing import Any

import psutil

from local.calls import access_key_for
from local.lambdas import (
    TIMED_OUT,
    Invocation,
    Lambdas,
    LateInvocation,
    logical_id_of,
    timed_out,
)
from local.template import PROJECT_ROOT

log = logging.getLogger(__name__)

EXIT_ERROR = "Runtime.ExitError"
COLD_START_TIMEOUT_S = 60.0
# What a worker's environment keeps of the local runtime's own (the rest is set explicitly).
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")


@dataclass(frozen=True)
class LogLine:
    function: str
    text: str


@dataclass(eq=False)
class _Worker:
    logical_id: str
    handler: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    conn: Connection
    last_used: float = field(default_factory=time.monotonic)
    _closing: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def close_conn(self) -> None:
        """Close our end of the pipe once, whichever thread asks first: two threads closing
        one Connection at once both pass its `_handle` check, and the second os.close() then
        closes whatever reused that descriptor number meanwhile (another worker's pipe, a
        server's socket)."""
        with self._closing:
            self.conn.close()

    def close(self, timeout_s: float = 2.0) -> None:
        self.close_conn()  # the worker's recv sees EOF and returns
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=timeout_s)


class _Pool:
    """The workers of one function."""

    def __init__(self, owner: ProcessLambdas, logical_id: str, handler: str) -> None:
        self.owner = owner
        self.logical_id = logical_id
        self.handler = handler
        self.env: dict[str, str] = {}  # on top of the runtime's (an override)
        self.idle: list[_Worker] = []
        self.count = 0  # started and not yet gone: idle, busy or running late
        self.changed = threading.Condition()

    def acquire(self) -> _Worker:
        with self.changed:
            while True:
                while self.idle:
                    worker = self.idle.pop()
                    if worker.alive():
                        return worker
                    self.count -= 1
                if self.owner.stopping:
                    raise RuntimeError("the local runtime is stopping")
                limit = self.owner.concurrency.get(self.logical_id, self.owner.max_per_function)
                if self.count < limit:
                    self.count += 1
                    break
                self.changed.wait()
        try:
            return self.owner.spawn(self.logical_id, self.handler, self.env)
        except BaseException:
            with self.changed:
                self.count -= 1
                self.changed.notify()
            raise

    def release(self, worker: _Worker) -> None:
        with self.changed:
            if (
                worker.alive()
                and not self.owner.stopping
                and (worker.handler, worker.env) == (self.handler, self.env)
            ):
                worker.last_used = time.monotonic()
                self.idle.append(worker)
            else:
                self.count -= 1
                self.owner._forget(worker)  # closed here, not again by the owner's stop()
                threading.Thread(target=worker.close, daemon=True).start()
            self.changed.notify()

    def reap(self, older_than: float) -> list[_Worker]:
        with self.changed:
            gone = [w for w in self.idle if w.last_used < older_than or not w.alive()]
            self.idle = [w for w in self.idle if w not in gone]
            self.count -= len(gone)
            self.changed.notify_all()
        return gone


class ProcessLambdas(Lambdas):
    def __init__(
        self,
        handlers: dict[str, str],
        env: dict[str, str],
        timeouts: dict[str, float] | None = None,
        max_per_function: int = 4,
        idle_s: float = 60.0,
        concurrency: dict[str, int] | None = None,
    ) -> None:
        super().__init__(timeouts)
        self._handlers = handlers
        self.env = dict(env)
        self.max_per_function = max_per_function
        # Function logical id → its own limit, where it differs from max_per_function.
        self.concurrency = dict(concurrency or {})
        self.idle_s = idle_s
        # Every line the workers wrote (the most recent ones), and whether to echo them.
        self.logs: deque[LogLine] = deque(maxlen=200_000)
        self.echo_logs = False
        self.stopping = False
        self._pools = {lid: _Pool(self, lid, path) for lid, path in handlers.items()}
        self._workers: dict[int, _Worker] = {}  # pid → every worker started and not gone
        self._crashes: dict[int, str] = {}  # pid → why it was killed
        self._stop = threading.Event()
        self._reaper = threading.Thread(target=self._reap, name="worker-reaper", daemon=True)
        self._reaper.start()

    # ------------------------------------------------------------------ processes

    def prewarm(self, counts: dict[str, int] | None = None, wait_s: float = 0.0) -> None:
        """Start workers of every function at once, in the background: one each, or as many
        as `counts` gives (a spare API worker: one long batch call must not leave the next
        caller a cold start, like provisioned concurrency). `wait_s`: wait up to that long
        for them to be ready (a server that says it is up must not hand its first callers
        cold starts)."""

        def warm(pool: _Pool, count: int) -> None:
            started: list[_Worker] = []
            try:
                for _ in range(count):
                    started.append(pool.acquire())
            except RuntimeError:
                pass  # stopping, or it did not start: the first invocation says why
            for worker in started:
                pool.release(worker)

        threads = [
            threading.Thread(
                target=warm,
                args=(pool, (counts or {}).get(pool.logical_id, 1)),
                name="prewarm",
                daemon=True,
            )
            for pool in self._pools.values()
        ]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + wait_s
        for thread in threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))

    def spawn(self, logical_id: str, handler: str, extra_env: dict[str, str]) -> _Worker:
        """Start a worker of `logical_id` and wait for its cold start."""
        ours, theirs = Pipe()
        env = {k: os.environ[k] for k in INHERITED if k in os.environ}
        env |= (
            self.env
            | extra_env
            | {
                "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT / "src"), str(PROJECT_ROOT)]),
                "AWS_LAMBDA_FUNCTION_NAME": logical_id,
                # Its own credentials, as its role gives a function on AWS: each call it makes
                # is attributed to it (local.calls).
                "AWS_ACCESS_KEY_ID": access_key_for(logical_id),
                "PYTHONUNBUFFERED": "1",
                # Powertools warns on every invocation that publishes no metric (metrics are off).
                "PYTHONWARNINGS": "ignore:No application metrics to publish:UserWarning",
            }
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "local.worker", handler, str(theirs.fileno())],
            pass_fds=(theirs.fileno(),),
            env=env,
            cwd=PROJECT_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            # Its own process group: a Ctrl-C in the terminal reaches the local runtime, which
            # stops the workers itself.
            start_new_session=True,
        )
        theirs.close()
        threading.Thread(
            target=self._collect_logs, args=(logical_id, process), name="logs", daemon=True
        ).start()
        worker = _Worker(logical_id, handler, dict(extra_env), process, ours)
        with self._lock:
            self._workers[worker.pid] = worker
        if not ours.poll(COLD_START_TIMEOUT_S) or ours.recv() != "ready":
            worker.close()
            raise RuntimeError(f"{logical_id}'s worker did not start")
        return worker

    def _collect_logs(self, logical_id: str, process: subprocess.Popen[bytes]) -> None:
        """A function's output is its log stream (CloudWatch Logs on AWS): kept, and echoed."""
        assert process.stdout is not None
        for raw in process.stdout:
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            self.logs.append(LogLine(logical_id, line))
            if self.echo_logs:
                print(f"[{logical_id}] {line}", file=sys.stderr, flush=True)

    def override(
        self, logical_id: str, handler: str | None = None, env: dict[str, str] | None = None
    ) -> Callable[[], None]:
        """Run `logical_id` with another handler (a test double) or more environment variables,
        from its next cold start on.

        Its idle workers retire now; busy ones finish their invocation first. Returns the undo.
        """
        pool = self._pools[logical_id]
        original = (pool.handler, pool.env)

        def use(setting: tuple[str, dict[str, str]]) -> None:
            with pool.changed:
                pool.handler, pool.env = setting
                retired, pool.idle = pool.idle, []
                pool.count -= len(retired)
                pool.changed.notify_all()
            for worker in retired:
                self._forget(worker)
                worker.close()

        use((handler or pool.handler, pool.env | (env or {})))
        return lambda: use(original)

    def pids(self) -> list[int]:
        with self._lock:
            return [pid for pid, w in self._workers.items() if w.alive()]

    def kill_owner_of(self, port: int, reason: str) -> bool:
        """Kill the worker whose TCP connection uses local `port` (a simulated crash)."""
        for pid in self.pids():
            try:
                connections = psutil.Process(pid).net_connections(kind="tcp")
            except psutil.Error:
                continue
            if any(c.laddr and c.laddr.port == port for c in connections):
                with self._lock:
                    self._crashes[pid] = reason
                os.kill(pid, signal.SIGKILL)
                return True
        return False

    def _reap(self) -> None:
        while not self._stop.wait(min(5.0, self.idle_s / 2)):
            older_than = time.monotonic() - self.idle_s
            for pool in self._pools.values():
                for worker in pool.reap(older_than):
                    self._forget(worker)
                    worker.close()

    def _forget(self, worker: _Worker) -> None:
        with self._lock:
            self._workers.pop(worker.pid, None)

    def stop(self) -> None:
        """Stop every worker: idle ones at once, busy ones when their invocation ends."""
        self.stopping = True
        self._stop.set()
        for pool in self._pools.values():
            with pool.changed:
                pool.count -= len(pool.idle)
                pool.idle = []
                pool.changed.notify_all()
        with self._lock:
            remaining = list(self._workers.values())
        for worker in remaining:
            worker.close_conn()
        deadline = time.monotonic() + 2
        for worker in remaining:
            try:
                worker.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                worker.process.kill()  # a busy one (a late invocation): Lambda freezes it too
                worker.process.wait(timeout=5)
        self._reaper.join(timeout=5)

    # ------------------------------------------------------------------ invocations

    def invoke(self, function_name: str, payload: dict[str, Any]) -> tuple[Any, str | None]:
        """Run the function on a worker; (result or error payload, error type or None)."""
        logical_id = logical_id_of(function_name)
        pool = self._pools[logical_id]
        timeout = self.timeouts.get(logical_id)
        request_id = str(uuid.uuid4())
        worker = pool.acquire()
        late = False
        error_type: str | None = None
        try:
            worker.conn.send((function_name, payload, timeout, request_id))
            if worker.conn.poll(timeout):
                result, error_type = self._answer(worker, request_id)
            else:
                late = True
                self._run_late(pool, worker, logical_id, payload)
                result, error_type = timed_out(request_id, timeout or 0.0), TIMED_OUT
        except (OSError, EOFError):
            result, error_type = self._exited(worker, request_id), EXIT_ERROR
        finally:
            if not late:
                if not worker.alive() or error_type == EXIT_ERROR:
                    self._forget(worker)
                pool.release(worker)
        with self._lock:
            self.invocations.append(Invocation(logical_id, payload, error_type))
        return result, error_type

    def _answer(self, worker: _Worker, request_id: str) -> tuple[Any, str | None]:
        try:
            text, error_type = worker.conn.recv()
        except (EOFError, OSError):
            return self._exited(worker, request_id), EXIT_ERROR
        return json.loads(text), error_type

    def _exited(self, worker: _Worker, request_id: str) -> dict[str, Any]:
        try:
            code = worker.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            worker.process.kill()
            code = worker.process.wait(timeout=5)
        with self._lock:
            reason = self._crashes.pop(worker.pid, "")
        how = (
            f"signal: {_SIGNAL_WORDS.get(-code, str(-code))}" if code < 0 else f"exit status {code}"
        )
        message = f"RequestId: {request_id} Error: Runtime exited with error: {how}"
        return {
            "errorType": EXIT_ERROR,
            "errorMessage": f"{message} ({reason})" if reason else message,
        }

    def _run_late(
        self, pool: _Pool, worker: _Worker, logical_id: str, payload: dict[str, Any]
    ) -> None:
        """Wait in the background for an invocation that outlived its timeout."""

        def finish() -> None:
            result, error_type = self._answer(worker, "late")
            with self._lock:
                self.late.append(LateInvocation(logical_id, payload, error_type, result))
            if error_type == EXIT_ERROR:
                self._forget(worker)
            pool.release(worker)

        thread = threading.Thread(target=finish, name=f"late-{logical_id}", daemon=True)
        with self._lock:
            self._late_threads.append(thread)
        thread.start()


# How the Lambda runtime words a process's death ("Runtime exited with error: signal: killed").
_SIGNAL_WORDS: dict[int, str] = {
    int(signal.SIGKILL): "killed",
    int(signal.SIGTERM): "terminated",
    int(signal.SIGSEGV): "segmentation fault",
}
