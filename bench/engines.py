"""Where the benchmark's table lives: moto (in process) or DynamoDB Local (AWS's own emulator).

DynamoDB Local is started with the repository suite's launcher (tests/repository/
dynamodb_local.py: the npm package's jar on the machine's Java, bound to 127.0.0.1, in memory),
once for the whole benchmark run.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MOTO = "moto"
DYNAMODB_LOCAL = "dynamodb-local"


@contextmanager
def dynamodb_endpoint(engine: str) -> Iterator[str | None]:
    """The DynamoDB endpoint URL for `engine` (None: moto's, in process) while in use."""
    if engine == MOTO:
        yield None
        return
    from local import dynamodb_local

    workdir = Path(tempfile.mkdtemp(prefix="bench-dynamodb-local-"))
    server = dynamodb_local.start(workdir)
    try:
        yield server.endpoint_url
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
