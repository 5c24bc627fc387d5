"""One Lambda execution environment: a process that runs one function's handler, warm.

`python -m local.worker <module.attr> <fd>`: imports the handler (the cold start), says
`ready` on the connection `fd`, then answers invocations one at a time, as a Lambda
execution environment does, until the connection closes. Its boto3 calls go to the local
AWS endpoint its environment names (AWS_ENDPOINT_URL); it shares nothing else with the
other functions. The result travels as JSON text, as Lambda serialises it.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
from multiprocessing.connection import Connection

from local.lambdas import FakeLambdaContext, run_handler


def main(argv: list[str]) -> int:
    handler_path, fd = argv[0], int(argv[1])
    conn = Connection(fd)
    module_name, attr = handler_path.rsplit(".", 1)
    handler = getattr(importlib.import_module(module_name), attr)
    conn.send("ready")
    while True:
        try:
            function_arn, payload, timeout_s, request_id = conn.recv()
        except (EOFError, OSError):
            # Retired: gone at once, as a Lambda environment is (no interpreter teardown).
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)
        context = FakeLambdaContext(
            function_name=function_arn.rsplit(":", 1)[-1],
            invoked_function_arn=function_arn,
            aws_request_id=request_id,
            deadline=None if timeout_s is None else time.monotonic() + timeout_s,
        )
        result, error_type = run_handler(handler, payload, context)
        conn.send((json.dumps(result, default=str), error_type))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
