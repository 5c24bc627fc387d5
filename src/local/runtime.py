"""The local runtime: the template's tables, bucket, state machine and handlers, on moto.

No AWS account and no Docker: moto's Step Functions executes the real ASL, and when an
execution ends the runtime delivers the EventBridge "Step Functions Execution Status Change"
event to the reconciler, as AWS would.

Two isolations (docs/architecture.md §9):

- `process` (the default, as on Lambda): moto runs as a server on 127.0.0.1 (local.moto_server)
  and every function runs in worker processes of its own (local.workers), which reach the AWS
  APIs by endpoint URL and the platform simulator over HTTP (local.platform_server): nothing
  is shared in memory. The table may live on DynamoDB Local instead (`table_engine`).
- `thread`: moto in process (`mock_aws`) and the handlers called in this process; only for
  tests that replace a function's internals (a sub-step's logic) from the test itself.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import re
import secrets
import shutil
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import boto3
from moto import mock_aws
from moto.core.config import DefaultConfig

from clients.platform_sandbox import SandboxService
from clients.platform_service import Answer
from clients.register_service import RegisterService
from clients.register_simulator import RegisterSimulator
from clients.simulator import PlatformSimulator, shared_simulator
from local import calls, dynamodb_local, request_calls
from local.asl import Interpreter, TaskFailedError
from local.intrinsics import local_name
from local.lambdas import InProcessLambdas, invoke_response
from local.moto_server import MotoServer
from local.platform_server import PlatformServer
from local.site_server import SiteServer
from local.template import FAKE_ACCOUNT, Template, function_arn
from local.workers import ProcessLambdas
from state.platform_sandbox import DynamoDBPlatformState

# How often the watcher lists the running executions, to find any it was not told about.
DISCOVER_EVERY_S = 2.0
TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}
_log = logging.getLogger(__name__)
STATE_MACHINE_ID = "Step6StateMachine"
BULK_STATE_MACHINE_ID = "BulkOperationStateMachine"
PIPELINE_STATE_MACHINE_ID = "JobPipelineStateMachine"
# The JobPipeline's functions (Steps 1-4, §14): their invocations are that machine's.
PIPELINE_FUNCTIONS = frozenset(
    {"Step1Function", "Step2Function", "Step3Function", "Step4Function", "StepFailedFunction"}
)
OPERATION_ITEM_ID = "OperationItemFunction"
TABLE_ID = "JobsTable"
BUCKET_ID = "ArtifactsBucket"
PASSWORD_KEY_ID = "PasswordKey"
RECONCILER_ID = "ReconcileFunction"
API_ID = "ApiFunction"
SANDBOX_ID = "PlatformSandboxFunction"
SANDBOX_TABLE_ID = "PlatformSandboxTable"
# Calls of the platform in flight at once (a batch's phases, each with parallel sub-steps).
SANDBOX_CONCURRENCY = 8
# The platform's API key (platform="simulator": the phases run as PlatformMode=http does).
PLATFORM_KEY_SECRET = "pumpd-onboarding/local/platform-api-key"
# A prewarmed runtime (make serve, make demo) starts once its workers are ready, or after this.
PREWARM_WAIT_S = 120.0

LOCAL_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_SERVICE_NAME": "pumpd-onboarding",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "PLATFORM_MODE": "simulator",
    "SUBSTEP_RETRY_BASE_S": "0.001",
    # A lost answer to a bulk operation's item heals after this long (900 s deployed).
    "OPERATION_ANSWER_TIMEOUT_S": "20",
    # The sample restaurant sites are served on 127.0.0.1 (deployed, private hosts are refused).
    "SITE_ALLOW_PRIVATE": "true",
    "SITE_TIMEOUT_S": "5",
}

# boto3 sessions are not thread-safe, and moto's Step Functions creates a client from the
# default session in each of its threads (a Distributed Map: one per concurrent item), so two
# creating one at once can fail (boto/boto3#1592, #2750) and fail that item's task. On AWS the
# service is no Python thread pool: client creation here takes turns, as boto3 asks.
_CLIENT_CREATION = threading.RLock()
_create_client = boto3.session.Session.client


def _client_in_turn(self: boto3.session.Session, *args: Any, **kwargs: Any) -> Any:
    with _CLIENT_CREATION:
        return _create_client(self, *args, **kwargs)


boto3.session.Session.client = _client_in_turn  # type: ignore[method-assign]


Isolation = Literal["process", "thread"]
TableEngine = Literal["moto", "dynamodb-local"]
# What the phase functions reach behind the platform's front door (process isolation).
PlatformKind = Literal["simulator", "sandbox"]


def table_engine_from_env() -> TableEngine:
    """`make serve` and `make demo`: DynamoDB Local unless LOCAL_TABLE_ENGINE=moto."""
    engine = os.environ.get("LOCAL_TABLE_ENGINE", "dynamodb-local")
    if engine not in ("moto", "dynamodb-local"):
        raise ValueError(f"LOCAL_TABLE_ENGINE must be moto or dynamodb-local, not {engine!r}")
    return "moto" if engine == "moto" else "dynamodb-local"


def platform_from_env() -> PlatformKind:
    """`make serve` and `make demo`: the in-memory simulator unless LOCAL_PLATFORM=sandbox."""
    kind = os.environ.get("LOCAL_PLATFORM", "simulator")
    if kind not in ("simulator", "sandbox"):
        raise ValueError(f"LOCAL_PLATFORM must be simulator or sandbox, not {kind!r}")
    return "sandbox" if kind == "sandbox" else "simulator"


class ExecutionTimeoutError(TimeoutError):
    pass


@dataclass
class DeliveredEvent:
    execution_arn: str
    status: str
    event: dict[str, Any]


@dataclass
class LocalRuntime:
    region: str = "us-east-1"
    template_path: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    # Tests of lost events turn delivery off.
    deliver_events: bool = True
    # How soon an execution is described after one of its Lambda tasks returned (then 4x
    # longer each time it is still running), and how often one with no activity is.
    poll_interval_s: float = 0.01
    idle_poll_s: float = 1.0
    # Function logical id → timeout in seconds, enforced in process (see local.lambdas); the
    # template's own timeouts (minutes) are not enforced. Tests lower one to time a Lambda out.
    function_timeouts: dict[str, float] = field(default_factory=dict)
    # The table on another DynamoDB engine (DynamoDB Local, docs/architecture.md §10) instead of
    # moto:
    # its endpoint URL. moto lets those calls through; the handlers reach it through
    # DYNAMODB_ENDPOINT_URL, as a deployed handler would. The tables are created afresh.
    dynamodb_endpoint_url: str | None = None
    # Each function in processes of its own (as on Lambda), or in this process (see above).
    isolation: Isolation = "process"
    # Where the table lives in process isolation: moto (quick to start; its transactions copy
    # the whole table, so slow past a few hundred jobs) or DynamoDB Local started here (the
    # engine `make serve` and `make demo` use). Ignored when `dynamodb_endpoint_url` is given.
    table_engine: TableEngine = "moto"
    # Process isolation: at most this many workers per function (its concurrency; the API's
    # is twice that: a long batch call must not hold up other callers), and how long an idle
    # one stays warm.
    max_workers_per_function: int = 2
    worker_idle_s: float = 60.0
    # Start one process of every function at once (`make serve`, `make demo`); otherwise each
    # starts on its first invocation (a cold start), which keeps short test runtimes cheap.
    prewarm: bool = False
    # Process isolation: the phases call the platform over HTTP, with its API key from Secrets
    # Manager, and find behind it either the in-memory simulator of this process (quick), or
    # the deployed stand-in's code: PlatformSandboxFunction in worker processes of its own,
    # signed requests as to its IAM function URL, its state in PlatformSandboxTable.
    platform: PlatformKind = "simulator"

    def __post_init__(self) -> None:
        self.template = Template.load(self.template_path)
        # Which executions' ends reach the reconciler, and with what status: its rules.
        self._rules = self.template.execution_rules(RECONCILER_ID)
        self.lambdas: InProcessLambdas | ProcessLambdas = InProcessLambdas(
            self.template.handlers(), self.function_timeouts
        )
        self._moto_server: MotoServer | None = None
        self._platform_server: PlatformServer | None = None
        # The directory and company register the JobPipeline reaches over HTTP (its ledger and
        # faults are this process's), and the sample restaurant websites Step 1 reads.
        self.registers = RegisterSimulator()
        self._register_server: PlatformServer | None = None
        self.sites = SiteServer()
        self._in_memory = SandboxService(shared_simulator())
        self._dynamodb_local: dynamodb_local.DynamoDBLocal | None = None
        self._workdir: Path | None = None
        self.delivered: list[DeliveredEvent] = []
        self._watched: dict[str, str] = {}  # execution arn → last known status
        self._finishing: set[str] = set()  # executions whose end is being or was reported
        # RUNNING executions: when to describe each next, and how many times it was since
        # its last activity (the backoff step).
        self._due: dict[str, tuple[float, int]] = {}
        self._wake = threading.Event()
        # moto's backends are not thread-safe (see `_serialise`).
        self._moto_lock = threading.RLock()
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._mock: Any = None
        self._saved_env: dict[str, str | None] = {}
        self._watcher: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> LocalRuntime:
        # moto logs an ERROR for every Choice rule on a missing path, even one guarded by
        # IsPresent (which then routes correctly): noise, not a fault.
        logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
        warnings.filterwarnings("ignore", "No application metrics to publish", UserWarning)
        self._set_env(LOCAL_ENV | {"AWS_DEFAULT_REGION": self.region})
        self.sites.start()
        self._register_server = PlatformServer(
            RegisterService(self.registers, api_key=None).handle, self._crash
        ).start()
        self._set_env(self._register_env())
        if self.isolation == "process":
            self._start_servers()
        else:
            self._start_mock()
        events = boto3.DEFAULT_SESSION.events  # type: ignore[union-attr]
        # A response from the handler short-circuits the call (no request leaves).
        events.register("before-call.lambda.Invoke", self._invoke)
        events.register("after-call.states.StartExecution", self._on_started)
        events.register("provide-client-params.states.StopExecution", self._on_stop_requested)
        events.register("after-call.states.StopExecution", self._on_stopped)
        names = self._create_resources()
        self._set_env(names | self.env)
        if isinstance(self.lambdas, ProcessLambdas):
            self.lambdas.env |= names | self.env
            if self.prewarm:
                self.lambdas.prewarm({API_ID: 2}, wait_s=PREWARM_WAIT_S)
        from handlers import wiring

        wiring.reset()
        self._watcher = threading.Thread(target=self._watch, name="execution-watcher", daemon=True)
        self._watcher.start()
        return self

    def _start_mock(self) -> None:
        config: DefaultConfig = {
            "stepfunctions": {"execute_state_machine": True},
            "lambda": {"use_docker": False},
        }
        if self.dynamodb_endpoint_url:
            # moto replaces a config section whole: the other core settings keep their defaults.
            config["core"] = {
                "mock_credentials": True,
                "passthrough": {"urls": [re.escape(self.dynamodb_endpoint_url) + ".*"]},
                "reset_boto3_session": True,
                "service_whitelist": None,
            }
        self._mock = mock_aws(config=config)
        self._mock.start()
        boto3.setup_default_session(region_name=self.region)
        events = boto3.DEFAULT_SESSION.events  # type: ignore[union-attr]
        events.register("before-call", self._serialise)
        # Released as soon as moto has answered, before any after-call handler runs.
        events.register("response-received", self._serialised)
        events.register("after-call", self._serialised)
        events.register("after-call-error", self._serialised)

    def _start_servers(self) -> None:
        """moto as a server, the table engine, the platform over HTTP, and the workers."""
        self._moto_server = MotoServer.shared()
        self._moto_server.stop_listeners.append(self._on_remote_stop)
        endpoints = {"AWS_ENDPOINT_URL": self._moto_server.url}
        # moto's Step Functions reaches S3 (a Distributed Map's ItemReader) at
        # localhost:MOTO_PORT from this process, where the server runs.
        self._set_env({"MOTO_PORT": self._moto_server.url.rsplit(":", 1)[-1].rstrip("/")})
        if self.dynamodb_endpoint_url is None and self.table_engine == "dynamodb-local":
            self._workdir = Path(tempfile.mkdtemp(prefix="pumpd-local-"))
            self._dynamodb_local = dynamodb_local.start(self._workdir)
            self.dynamodb_endpoint_url = self._dynamodb_local.endpoint_url
        if self.dynamodb_endpoint_url:
            endpoints["AWS_ENDPOINT_URL_DYNAMODB"] = self.dynamodb_endpoint_url
        self._set_env(endpoints)
        boto3.setup_default_session(region_name=self.region)
        self._platform_server = PlatformServer(self._respond, self._crash).start()
        self.lambdas = ProcessLambdas(
            self.template.handlers(),
            env=LOCAL_ENV
            | endpoints
            | {"AWS_DEFAULT_REGION": self.region}
            | self._platform_env(self._platform_server.url)
            | self._register_env(),
            timeouts=self.function_timeouts,
            max_per_function=self.max_workers_per_function,
            idle_s=self.worker_idle_s,
            concurrency={
                API_ID: 2 * self.max_workers_per_function,
                SANDBOX_ID: SANDBOX_CONCURRENCY,
            },
        )

    def _register_env(self) -> dict[str, str]:
        """Steps 2-4 reach the directory and register as a deployed stack in `http` mode."""
        assert self._register_server is not None
        return {"REGISTER_MODE": "http", "REGISTER_BASE_URL": self._register_server.url}

    def _platform_env(self, front_door: str) -> dict[str, str]:
        """How the phases reach the platform: the settings a deployed phase gets."""
        if self.platform == "sandbox":
            return {"PLATFORM_MODE": "sandbox", "PLATFORM_BASE_URL": front_door}
        # The real platform's way: a bearer key, read from Secrets Manager.
        api_key = secrets.token_urlsafe(16)
        self._in_memory = SandboxService(shared_simulator(), api_key)
        secret = boto3.client("secretsmanager").create_secret(
            Name=PLATFORM_KEY_SECRET, SecretString=api_key
        )
        return {
            "PLATFORM_MODE": "http",
            "PLATFORM_BASE_URL": front_door,
            "PLATFORM_API_KEY_SECRET_ARN": secret["ARN"],
        }

    @property
    def platform_url(self) -> str:
        """The platform's front door the phases call (process isolation)."""
        assert self._platform_server is not None, "start() first (process isolation)"
        return self._platform_server.url

    @property
    def simulator(self) -> PlatformSimulator:
        """The platform the phases reach: its faults, ledger and objects (tests, demo, serve)."""
        if self.platform == "sandbox" and self.isolation == "process":
            table = boto3.resource("dynamodb", endpoint_url=self.dynamodb_endpoint_url).Table(
                SANDBOX_TABLE_ID
            )
            return PlatformSimulator(DynamoDBPlatformState(table))
        return shared_simulator()

    def _respond(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> Answer:
        if self.platform == "simulator":
            return self._in_memory.handle(method, path, query, headers, body)
        # As the function URL: AWS_IAM auth refuses an unsigned request before the function.
        authorization = headers.get("authorization", "")
        if not authorization.startswith("AWS4-HMAC-SHA256 ") or "/lambda/aws4_request" not in (
            authorization
        ):
            return Answer(403, {"Message": "Forbidden"})
        event = function_url_event(method, path, query, headers, body)
        result, error_type = self.lambdas.invoke(function_arn(SANDBOX_ID, self.region), event)
        if error_type is not None or not isinstance(result, dict):
            return Answer(502, {"message": f"the platform sandbox failed: {result}"})
        answer_headers = {k.lower(): str(v) for k, v in (result.get("headers") or {}).items()}
        return Answer(int(result["statusCode"]), json.loads(result["body"]), answer_headers)

    def _crash(self, port: int, reason: str) -> bool:
        assert isinstance(self.lambdas, ProcessLambdas)
        return self.lambdas.kill_owner_of(port, reason)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._watcher is not None:
            self._watcher.join(timeout=5)
        self._abandon_executions()
        # A handler still running past its timeout must not outlive the mock (its calls would
        # leave for the real AWS endpoints).
        try:
            self.lambdas.wait_idle()
        except TimeoutError:
            logging.getLogger(__name__).warning("a timed-out handler is still running")
        if isinstance(self.lambdas, ProcessLambdas):
            self.lambdas.stop()
        if self._platform_server is not None:
            self._platform_server.stop()
        if self._register_server is not None:
            self._register_server.stop()
        self.sites.stop()
        if self._moto_server is not None:
            if self._on_remote_stop in self._moto_server.stop_listeners:
                self._moto_server.stop_listeners.remove(self._on_remote_stop)
            self._moto_server.reset()  # the server itself serves the next runtime
        if self._dynamodb_local is not None:
            self._dynamodb_local.stop()
            self.dynamodb_endpoint_url = None
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
        if self._mock is not None:
            self._mock.stop()
        boto3.DEFAULT_SESSION = None
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        from handlers import wiring

        wiring.reset()

    def _abandon_executions(self) -> None:
        """Stop this runtime's executions still running, unreported: moto runs each on threads
        of this process that outlive the runtime (a map's items wait for tokens, time out and
        invoke their Lambda again), and would invoke the next runtime's functions with this
        one's ids and tokens. On AWS a stack's executions never reach another stack."""
        if (
            self._moto_server is not None
            and self._on_remote_stop in self._moto_server.stop_listeners
        ):
            self._moto_server.stop_listeners.remove(self._on_remote_stop)
        # A session of its own: the runtime's hooks would report each stop as an event.
        sfn = boto3.session.Session(region_name=self.region).client("stepfunctions")
        names = ("state_machine_arn", "bulk_operation_arn", "pipeline_arn")
        for machine in (getattr(self, name, "") for name in names):
            if not machine:
                continue
            try:
                pages = sfn.get_paginator("list_executions").paginate(
                    stateMachineArn=machine, statusFilter="RUNNING"
                )
                for page in pages:
                    for execution in page["executions"]:
                        sfn.stop_execution(
                            executionArn=execution["executionArn"], cause="local runtime stopped"
                        )
            except sfn.exceptions.ClientError as error:
                logging.getLogger(__name__).warning("executions not stopped: %s", error)

    def __enter__(self) -> LocalRuntime:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _set_env(self, values: dict[str, str]) -> None:
        for key, value in values.items():
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value

    def _create_resources(self) -> dict[str, str]:
        dynamodb = boto3.client("dynamodb", endpoint_url=self.dynamodb_endpoint_url)
        for logical_id, definition in self.template.table_definitions().items():
            if self.dynamodb_endpoint_url:
                with contextlib.suppress(dynamodb.exceptions.ResourceNotFoundException):
                    dynamodb.delete_table(TableName=logical_id)
            dynamodb.create_table(TableName=logical_id, **definition)
        bucket = local_name(BUCKET_ID, "AWS::S3::Bucket")
        boto3.client("s3").create_bucket(Bucket=bucket)
        sfn = boto3.client("stepfunctions")
        self.state_machine_arn = sfn.create_state_machine(
            name=STATE_MACHINE_ID,
            definition=self.template.state_machine_definition(STATE_MACHINE_ID, self.region),
            roleArn=f"arn:aws:iam::{FAKE_ACCOUNT}:role/{STATE_MACHINE_ID}Role",
            type="STANDARD",
        )["stateMachineArn"]
        # The bulk operations' engine (§13); the watcher leaves its executions alone (no
        # status-change event goes to the reconciler for them, as the rule filters on AWS).
        self.bulk_operation_arn = sfn.create_state_machine(
            name=BULK_STATE_MACHINE_ID,
            definition=self.template.state_machine_definition(BULK_STATE_MACHINE_ID, self.region),
            roleArn=f"arn:aws:iam::{FAKE_ACCOUNT}:role/{BULK_STATE_MACHINE_ID}Role",
            type="STANDARD",
        )["stateMachineArn"]
        # Steps 1-4 (§14); the watcher leaves its executions alone too.
        self.pipeline_arn = sfn.create_state_machine(
            name=PIPELINE_STATE_MACHINE_ID,
            definition=self.template.state_machine_definition(
                PIPELINE_STATE_MACHINE_ID, self.region
            ),
            roleArn=f"arn:aws:iam::{FAKE_ACCOUNT}:role/{PIPELINE_STATE_MACHINE_ID}Role",
            type="STANDARD",
        )["stateMachineArn"]
        # The passwords' key (moto names it; calls on it are the template's PasswordKey's).
        key_arn = boto3.client("kms").create_key(Description=PASSWORD_KEY_ID)["KeyMetadata"]["Arn"]
        request_calls.KEY_LOGICAL_IDS[key_arn] = PASSWORD_KEY_ID
        endpoint = {"DYNAMODB_ENDPOINT_URL": self.dynamodb_endpoint_url}
        return {k: v for k, v in endpoint.items() if v} | {
            "PASSWORD_KEY_ID": key_arn,
            "TABLE_NAME": TABLE_ID,
            "SANDBOX_TABLE_NAME": SANDBOX_TABLE_ID,
            "BUCKET_NAME": bucket,
            "STATE_MACHINE_ARN": self.state_machine_arn,
            "BULK_OPERATION_STATE_MACHINE_ARN": self.bulk_operation_arn,
            "JOB_PIPELINE_STATE_MACHINE_ARN": self.pipeline_arn,
        }

    # ------------------------------------------------------------------ executions

    def _serialise(self, model: Any, context: dict[str, Any], **_: Any) -> None:
        """One moto request at a time, from whichever thread (released in `_serialised`).

        moto 5.2.5's backends are plain dicts without locks, and the handlers here are
        concurrent (a phase's sub-steps, a batch's jobs, many executions): a TransactWriteItems
        deep-copies the table while another thread adds an item ("dictionary changed size
        during iteration"), CreateSecret iterates the secrets while another adds one, and a
        conditional write is checked and applied without a lock between, so two claims can
        both win. AWS serialises per item; one lock around each moto request restores that
        here, at no cost in throughput (moto is pure Python: it runs under the GIL anyway).
        Lambda invocations are not moto requests (they are answered in `_invoke`, which
        short-circuits before this handler), nor are calls to another DynamoDB engine.
        """
        service = model.service_model.service_name
        if service == "dynamodb" and self.dynamodb_endpoint_url:
            return
        self._moto_lock.acquire()
        context["local_moto_lock"] = True

    def _serialised(self, context: dict[str, Any], **_: Any) -> None:
        if context.pop("local_moto_lock", False):
            self._moto_lock.release()

    def _on_started(self, parsed: dict[str, Any], **_: Any) -> None:
        arn = parsed.get("executionArn")
        if arn:
            with self._changed:
                if self._watched.setdefault(arn, "RUNNING") == "RUNNING":
                    self._schedule(arn, self.idle_poll_s)

    def _on_stop_requested(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["local_stop_request"] = dict(params)

    def _on_stopped(
        self, http_response: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any
    ) -> None:
        """StopExecution ends the execution at once, as in AWS, whatever moto is still doing.

        moto marks an execution ABORTED only once the Task that is running returns. In AWS the
        execution is ABORTED (and its status-change event sent) as soon as StopExecution
        answers, while a Lambda invocation in flight runs on to its end: a late writer the
        application must fence off. The runtime reports it the AWS way; moto's own ABORTED,
        later, is not reported twice.
        """
        request = context.get("local_stop_request") or {}
        if getattr(http_response, "status_code", 200) >= 300:
            return
        self._report_stop(request, parsed.get("stopDate"))

    def _on_remote_stop(self, request: dict[str, Any]) -> None:
        """A StopExecution a function process sent (the API's cancel): reported the same way,
        on a thread of its own (the moto server's request thread must answer first)."""
        threading.Thread(
            target=self._report_stop, args=(request, None), name="stop-report", daemon=True
        ).start()

    def _report_stop(self, request: dict[str, Any], stop_date: Any) -> None:
        arn = request.get("executionArn")
        if not arn:
            return
        with self._lock:
            if self._watched.get(arn, "RUNNING") != "RUNNING":
                return
        described = dict(boto3.client("stepfunctions").describe_execution(executionArn=arn))
        if described["status"] != "RUNNING":
            return  # it ended before the stop: the watcher reports how
        described |= {
            "status": "ABORTED",
            "stopDate": stop_date or datetime.now(UTC),
            "error": request.get("error"),
            "cause": request.get("cause"),
        }
        self._finish(arn, described)

    def _invoke(self, params: dict[str, Any], **_: Any) -> Any:
        """Run the Lambda in process; then look at its execution soon: it may have ended."""
        raw = params.get("body") or b"{}"
        try:
            payload = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
        except ValueError:
            payload = {}
        token = payload.get("task_token") if isinstance(payload, dict) else None
        if isinstance(token, str):  # a bulk operation's item (§13): whose token it answers
            request_calls.TASK_TOKEN_OWNERS[token] = self.bulk_operation_arn
        response = invoke_response(self._invoke_as_state_machine, params)
        arn = payload.get("execution_arn") if isinstance(payload, dict) else None
        if isinstance(arn, str) and self._rule_for(arn) is not None:
            self._activity(arn)
        return response

    def _invoke_as_state_machine(
        self, function_name: str, payload: dict[str, Any]
    ) -> tuple[Any, str | None]:
        """A Lambda task of the state machine: its role's lambda:InvokeFunction (local.calls)."""
        arn = function_name
        if not arn.startswith("arn:"):
            arn = function_arn(function_name, self.region)
        function = arn.rsplit(":", 1)[-1]
        machine = (
            BULK_STATE_MACHINE_ID
            if function == OPERATION_ITEM_ID
            else PIPELINE_STATE_MACHINE_ID
            if function in PIPELINE_FUNCTIONS
            else STATE_MACHINE_ID
        )
        calls.record(machine, "lambda:InvokeFunction", [arn])
        return self.lambdas.invoke(function_name, payload)

    def _activity(self, arn: str) -> None:
        # An execution the runtime did not see start (a function process started it) is
        # watched from its first Lambda task on.
        with self._changed:
            if self._watched.setdefault(arn, "RUNNING") == "RUNNING":
                self._schedule(arn, self.poll_interval_s)
        self._wake.set()

    def _schedule(self, arn: str, delay_s: float, step: int = 0) -> None:
        """Describe `arn` in `delay_s` (the caller holds the lock)."""
        self._due[arn] = (time.monotonic() + delay_s, step)

    def _watch(self) -> None:
        """Describe only the executions that are due, not every RUNNING one on every tick.

        An execution ends right after one of its Lambda tasks returns (the last one, or a
        failing one): that is activity, after which it is described
        within `poll_interval_s`, then less and less often while it keeps running. One with
        no activity at all is described every `idle_poll_s`, stretched as the number of
        running executions grows, so that polling stays a small, bounded load.
        """
        sfn = boto3.client("stepfunctions")
        next_listing = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= next_listing:
                try:
                    self._discover(sfn)
                except Exception:  # noqa: BLE001 - listed again at the next turn
                    _log.exception("running executions not listed")
                next_listing = now + DISCOVER_EVERY_S
            with self._lock:
                due = [(arn, step) for arn, (at, step) in self._due.items() if at <= now]
                idle_s = max(self.idle_poll_s, 0.002 * len(self._due))
            for arn, step in due:
                try:
                    self._look_at(sfn, arn, step, idle_s)
                except Exception:  # noqa: BLE001 - the watcher outlives any one execution
                    # As EventBridge retries a delivery: looked at again shortly.
                    _log.exception("execution %s not described or its event not delivered", arn)
                    with self._lock:
                        self._schedule(arn, max(self.poll_interval_s, 0.5), step)
            with self._lock:
                next_at = min((at for at, _ in self._due.values()), default=None)
            timeout = self.idle_poll_s if next_at is None else next_at - time.monotonic()
            if timeout > 0:
                self._wake.wait(timeout)
            self._wake.clear()

    def _look_at(self, sfn: Any, arn: str, step: int, idle_s: float) -> None:
        described = dict(sfn.describe_execution(executionArn=arn))
        if described["status"] in TERMINAL:
            with self._lock:
                self._due.pop(arn, None)
            self._finish(arn, described)
            return
        with self._lock:
            if self._due.get(arn, (0.0, -1))[1] == step:  # no newer activity meanwhile
                delay = min(self.poll_interval_s * 4 ** (step + 1), idle_s)
                self._schedule(arn, delay, step + 1)

    def _discover(self, sfn: Any) -> None:
        """Watch the running executions this process did not see start (a function did)."""
        paginator = sfn.get_paginator("list_executions")
        arns = [
            e["executionArn"]
            for machine in self._rules
            for page in paginator.paginate(
                stateMachineArn=self._machine_arn(machine), statusFilter="RUNNING"
            )
            for e in page["executions"]
        ]
        with self._changed:
            for arn in arns:
                if arn not in self._watched:
                    self._watched[arn] = "RUNNING"
                    self._schedule(arn, self.idle_poll_s)

    def _finish(self, arn: str, described: dict[str, Any]) -> None:
        with self._lock:
            if arn in self._finishing:
                return  # reported already (a stop, then moto's own ABORTED)
            self._finishing.add(arn)
            self._due.pop(arn, None)
        event = self.status_change_event(described)
        # The reconciler's rules (template.yaml) pick the machines and statuses delivered.
        statuses = self._rule_for(arn)
        if self.deliver_events and statuses is not None and described["status"] in statuses:
            try:
                self.lambdas.invoke(function_arn(RECONCILER_ID, self.region), event)
            except Exception:  # noqa: BLE001 - as EventBridge retries a delivery it could not make
                _log.exception("status-change event of %s not delivered: trying again", arn)
                with self._lock:
                    self._finishing.discard(arn)
                    self._schedule(arn, max(self.poll_interval_s, 0.5))
                self._wake.set()
                return
        with self._changed:
            self._watched[arn] = described["status"]
            self.delivered.append(DeliveredEvent(arn, described["status"], event))
            self._changed.notify_all()

    def _rule_for(self, execution_arn: str) -> frozenset[str] | None:
        """The statuses the reconciler's rule for this execution's machine lets through, or
        None when no rule matches its machine (local machines are named by logical id)."""
        for machine, statuses in self._rules.items():
            if f":execution:{machine}:" in execution_arn:
                return statuses
        return None

    def _machine_arn(self, machine: str) -> str:
        arns = {
            STATE_MACHINE_ID: self.state_machine_arn,
            BULK_STATE_MACHINE_ID: self.bulk_operation_arn,
            PIPELINE_STATE_MACHINE_ID: self.pipeline_arn,
        }
        return arns[machine]

    def status_change_event(self, described: dict[str, Any]) -> dict[str, Any]:
        detail = {
            "executionArn": described["executionArn"],
            "stateMachineArn": described["stateMachineArn"],
            "name": described.get("name"),
            "status": described["status"],
            "startDate": _millis(described.get("startDate")),
            "stopDate": _millis(described.get("stopDate")),
            "input": described.get("input", "{}"),
            "output": described.get("output"),
            "error": described.get("error"),
            "cause": described.get("cause"),
        }
        return {
            "version": "0",
            "id": f"local-{described['executionArn'].rsplit(':', 1)[-1]}-{detail['status']}",
            "detail-type": "Step Functions Execution Status Change",
            "source": "aws.states",
            "account": FAKE_ACCOUNT,
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.region,
            "resources": [described["executionArn"]],
            "detail": detail,
        }

    def wait_for(self, execution_arn: str, timeout_s: float = 60) -> str:
        """Block until the execution ended and its status-change event was handled."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            if execution_arn not in self._watched:
                self._watched[execution_arn] = "RUNNING"
                self._schedule(execution_arn, 0)
                self._wake.set()
            while self._watched[execution_arn] == "RUNNING":
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ExecutionTimeoutError(f"{execution_arn} still running after {timeout_s}s")
                if self._watcher is not None and not self._watcher.is_alive():
                    raise RuntimeError("the execution watcher has stopped: nothing reports ends")
                self._changed.wait(min(remaining, 1.0))
            return self._watched[execution_arn]

    def wait_all(self, timeout_s: float = 120) -> None:
        deadline = time.monotonic() + timeout_s
        with self._lock:
            arns = list(self._watched)
        for arn in arns:
            self.wait_for(arn, max(0.1, deadline - time.monotonic()))

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        sfn = boto3.client("stepfunctions")
        events: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"executionArn": execution_arn}
        while True:
            page = sfn.get_execution_history(**kwargs)
            events.extend(dict(e) for e in page["events"])
            if not page.get("nextToken"):
                return events
            kwargs["nextToken"] = page["nextToken"]

    def entered_states(self, execution_arn: str) -> list[str]:
        return [
            e["stateEnteredEventDetails"]["name"]
            for e in self.history(execution_arn)
            if "stateEnteredEventDetails" in e
        ]

    # ------------------------------------------------------------------ redrive emulation

    def redrive(self, execution_arn: str) -> str:
        """Emulate StepFunctions RedriveExecution (moto lacks it).

        Re-runs the state the execution failed in, with that state's original input and the
        same execution ARN, then the states after it; then delivers the status-change event.
        """
        sfn = boto3.client("stepfunctions")
        described = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] not in ("FAILED", "TIMED_OUT", "ABORTED"):
            raise ValueError(f"only a failed execution can be redriven, not {described['status']}")
        entered = [e for e in self.history(execution_arn) if "stateEnteredEventDetails" in e]
        last = entered[-1]["stateEnteredEventDetails"]
        definition = json.loads(
            self.template.state_machine_definition(STATE_MACHINE_ID, self.region)
        )
        context = {
            "Execution": {"Id": execution_arn, "Name": described["name"]},
            "StateMachine": {"Id": described["stateMachineArn"]},
        }
        interpreter = Interpreter(definition, self._invoke_as_state_machine)
        status, error, cause = "SUCCEEDED", None, None
        try:
            interpreter.run_from(last["name"], json.loads(last["input"]), context)
        except TaskFailedError as failure:
            status, error, cause = "FAILED", failure.error, failure.cause
        outcome = described | {"status": status, "error": error, "cause": cause}
        with self._changed:
            self._watched[execution_arn] = status
        event = self.status_change_event(outcome)
        if self.deliver_events:
            self.lambdas.invoke(function_arn(RECONCILER_ID, self.region), event)
        self.delivered.append(DeliveredEvent(execution_arn, status, event))
        return status


def function_url_event(
    method: str, path: str, query: str, headers: dict[str, str], body: bytes
) -> dict[str, Any]:
    """The event a Lambda function URL hands its function (payload format 2.0)."""
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": FAKE_ACCOUNT,
            "requestId": str(uuid.uuid4()),
            "stage": "$default",
            "timeEpoch": int(time.time() * 1000),
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": headers.get("user-agent", ""),
            },
        },
        "body": base64.b64encode(body).decode(),
        "isBase64Encoded": True,
    }


def _millis(value: Any) -> int | None:
    return int(value.timestamp() * 1000) if isinstance(value, datetime) else None


@contextmanager
def local_runtime(**kwargs: Any) -> Iterator[LocalRuntime]:
    runtime = LocalRuntime(**kwargs).start()
    try:
        yield runtime
    finally:
        runtime.stop()
