"""A batch of N jobs on `make serve`, measured from outside: wall time, memory, bystander reads.

`python -m bench.serve_scale N [--idle-s S]` starts `python -m local.server` (every function
in processes of its own, the table on DynamoDB Local unless LOCAL_TABLE_ENGINE says
otherwise) on a free port, then over HTTP, as a user would:

1. creates a batch of N restaurants (org-a), and submits Step 5 for every job;
2. meanwhile another org (org-b) lists its batches every half second: the slowest answer is
   the "bystander read";
3. waits until every job completed, then until the server is idle again (its workers retire
   after LOCAL_WORKER_IDLE_S);
4. stops it with SIGTERM and times the stop.

Memory is the resident set of the server and every process it started (workers, DynamoDB
Local), sampled every 0.2 s: RSS summed over processes counts shared pages once per process,
so it errs high. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Self

import psutil

from local.samples import config_data, restaurant_data

ROOT = Path(__file__).resolve().parents[1]
ORG, BYSTANDER = "org-a", "org-b"
# Step 5 goes in calls of the batch-wide calls' cap (larger ones answer 422).
MAX_JOBS_PER_REQUEST = 100  # domain.batch_actions.batch_call_cap


def _call(url: str, method: str, path: str, org: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url + path,
        data=data,
        method=method,
        headers={"Authorization": f"Bearer local:{org}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=600) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def tree_rss_mb(pid: int) -> float:
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except psutil.Error:
            continue
    return total / 2**20


class Periodic:
    """Calls `tick` every `interval_s` on a daemon thread of its own, from `start` to `stop`."""

    interval_s: ClassVar[float]

    def start(self) -> Self:
        self._stop = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.tick()

    def tick(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        self._stop.set()


@dataclass
class Sampler(Periodic):
    pid: int
    samples: list[tuple[float, float]] = field(default_factory=list)
    interval_s = 0.2

    def tick(self) -> None:
        self.samples.append((time.monotonic(), tree_rss_mb(self.pid)))

    def peak(self, since: float = 0.0) -> float:
        return max((mb for at, mb in self.samples if at >= since), default=0.0)


@dataclass
class Bystander(Periodic):
    url: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    interval_s = 0.5

    def tick(self) -> None:
        started = time.monotonic()
        status, _ = _call(self.url, "GET", "/registration-batches", BYSTANDER)
        self.latencies.append(time.monotonic() - started)
        self.errors += status != 200


def start_server(env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "local.server"],
        cwd=ROOT,
        env=os.environ | {"PORT": "0", "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"} | env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 120
    for line in process.stdout:
        if "http://127.0.0.1:" in line:
            url = line.split("API on ", 1)[1].split()[0]
            threading.Thread(target=process.stdout.read, daemon=True).start()  # drain
            return process, url
        if time.monotonic() > deadline:
            break
    process.kill()
    raise RuntimeError("the server did not print its URL")


def _completed(url: str, batch_id: str) -> dict[str, int]:
    status, body = _call(url, "GET", "/registration-batches", ORG)
    assert status == 200, body
    (batch,) = [b for b in body["batches"] if b["batch_id"] == batch_id]
    counts: dict[str, int] = batch["job_counts"]
    return counts


def measure(jobs: int, idle_s: float = 20.0, timeout_s: float = 3600.0) -> dict[str, Any]:
    process, url = start_server({"LOCAL_WORKER_IDLE_S": str(idle_s)})
    sampler = Sampler(process.pid).start()
    try:
        time.sleep(1.0)  # the first samples: the server as it starts
        start_mb = sampler.peak()
        bystander = Bystander(url).start()
        started = time.monotonic()
        names = [f"Serve Scale Cafe {i}" for i in range(jobs)]
        created_jobs: list[dict[str, Any]] = []
        batch_id = ""
        status, body = _call(
            url,
            "POST",
            "/registration-batches",
            ORG,
            {"name": f"Scale {jobs}", "restaurants": [restaurant_data(n) for n in names]},
        )
        assert status == 201, body
        batch_id, created_jobs = body["batch_id"], body["jobs"]
        created_s = time.monotonic() - started
        submit_started = time.monotonic()
        for i in range(0, len(created_jobs), MAX_JOBS_PER_REQUEST):
            chunk = created_jobs[i : i + MAX_JOBS_PER_REQUEST]
            entries = [
                {"job_id": j["job_id"], "execution_config": config_data(j["restaurant_name"])}
                for j in chunk
            ]
            status, body = _call(
                url, "POST", f"/registration-batches/{batch_id}/step-5", ORG, {"jobs": entries}
            )
            assert status in (200, 202, 207), (status, body)
        submit_s = time.monotonic() - submit_started
        deadline = time.monotonic() + timeout_s
        counts = _completed(url, batch_id)
        while counts.get("completed", 0) < jobs and time.monotonic() < deadline:
            time.sleep(2)
            counts = _completed(url, batch_id)
        done_at = time.monotonic()
        bystander.stop()
        busy_peak = sampler.peak()
        # idle: the workers retire after idle_s; wait for that, and a little more
        time.sleep(idle_s + 10)
        idle_mb = tree_rss_mb(process.pid)
        stop_started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
        stop_s = time.monotonic() - stop_started
    finally:
        sampler.stop()
        if process.poll() is None:
            process.kill()
    return {
        "jobs": jobs,
        "completed": counts.get("completed", 0),
        "job_counts": {k: v for k, v in counts.items() if v},
        "create_s": round(created_s, 1),
        "step5_call_s": round(submit_s, 1),
        "all_completed_s": round(done_at - started, 1),
        "start_mb": round(start_mb),
        "peak_mb": round(busy_peak),
        "idle_mb": round(idle_mb),
        "bystander_reads": len(bystander.latencies),
        "bystander_max_s": round(max(bystander.latencies, default=0.0), 3),
        "bystander_p95_s": round(_p95(bystander.latencies), 3),
        "bystander_errors": bystander.errors,
        "stop_s": round(stop_s, 2),
        "exit_code": code,
    }


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[int(0.95 * (len(ordered) - 1))] if ordered else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("jobs", type=int)
    parser.add_argument("--idle-s", type=float, default=20.0)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.jobs, args.idle_s)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
