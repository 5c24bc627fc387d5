"""Least privilege: each function is granted exactly the AWS calls its code path makes.

The expected grants are derived here from the code, table by table:

* which AWS operation each port method calls (read from the client and repository sources and
  checked against them below, so a new call fails this suite until it is granted);
* which repository methods each handler's path reaches (the call paths are named per entry);
* which object-store and secret-store calls each Step 6 phase makes (read from the sub-steps
  the catalogue declares for the phase).

The template's grants must equal these: nothing missing (the call would be denied deployed) and
nothing more (no Scan, no DeleteItem, no `*`).
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from tools.cfn_template import REPO_ROOT, functions

from domain.catalogue import SUB_STEPS
from state.platform_sandbox import DynamoDBPlatformState
from state.repository import JobRepository

SRC = REPO_ROOT / "src"

# --- the operations each port method calls ----------------------------------------------------

# boto3 call in src/state/repository.py -> the IAM action DynamoDB checks for it.
# TransactWriteItems has no IAM action of its own: each item is authorised as its operation
# (the repository's transactions hold Update and Put items only, asserted below: the claims'
# and settlements' history rows are Puts). A batch_writer sends
# BatchWriteItem, whatever it holds (put or delete requests).
BOTO_TO_IAM = {
    "get_item": "dynamodb:GetItem",
    "put_item": "dynamodb:PutItem",
    "update_item": "dynamodb:UpdateItem",
    "query": "dynamodb:Query",
    "batch_get_item": "dynamodb:BatchGetItem",
    "transact_write_items": "dynamodb:UpdateItem",
    "batch_writer": "dynamodb:BatchWriteItem",
    "writer.put_item": "dynamodb:BatchWriteItem",
    "writer.delete_item": "dynamodb:BatchWriteItem",
}

# JobRepository method -> (DynamoDB actions on the table, queries the listing/failures indexes).
# Every conditional update reads `active_execution` back (GetItem) when its condition fails.
REPOSITORY: dict[str, tuple[set[str], bool]] = {
    "create_batch": ({"PutItem", "BatchWriteItem"}, False),
    "get_batch": ({"GetItem"}, False),
    "list_batches": (set(), True),
    "list_listings": (set(), True),
    "list_failures": (set(), True),
    # the index finds the ids, BatchGetItem reads the jobs
    "list_jobs": ({"BatchGetItem"}, True),
    "get_jobs": ({"BatchGetItem"}, False),
    # a projected BatchGetItem of the jobs' own items (the operation's unnamed items)
    "restaurant_names": ({"BatchGetItem"}, False),
    # one Query: the job's item and its restaurant's
    "get_job": ({"Query"}, False),
    "get_job_for_org": ({"Query"}, False),
    # a transaction: the job's Update and the history row's Put
    "claim_new_run": ({"UpdateItem", "GetItem", "PutItem"}, False),
    "reclaim_for_redrive": ({"UpdateItem", "GetItem", "PutItem"}, False),
    "release_claim": ({"UpdateItem", "GetItem"}, False),
    "settle_run": ({"UpdateItem", "GetItem", "PutItem"}, False),
    "get_run": ({"GetItem"}, False),
    "list_runs": ({"Query"}, False),
    "amend_config": ({"UpdateItem", "GetItem"}, False),
    "record_operator_change": ({"UpdateItem", "GetItem"}, False),
    "checkpoint_sub_step": ({"UpdateItem", "GetItem"}, False),
    "record_skips": ({"UpdateItem", "GetItem"}, False),
    # conditional on the reference; a failed condition answers False, no read-back
    "forget_password_secret": ({"UpdateItem"}, False),
    "append_event": ({"PutItem"}, False),
    "append_events": ({"BatchWriteItem"}, False),
    "trim_events": ({"Query", "BatchWriteItem"}, False),  # query the job's events, delete some
    "list_events": ({"Query"}, False),
    # Steps 1-4: the job's Update, with the restaurant's Put when a step found part of it
    # (a lost step write reads nothing back: no GetItem for the step functions)
    "claim_pipeline": ({"UpdateItem", "PutItem", "GetItem"}, False),  # who won a lost claim
    "advance_pipeline": ({"UpdateItem", "PutItem"}, False),
}

# OperationRepository (state/operations.py) method -> (actions, queries the listing index).
OPERATION_REPOSITORY: dict[str, tuple[set[str], bool]] = {
    "beside": (set(), False),
    "create": ({"PutItem", "GetItem"}, False),  # the token (conditional), then the operation
    "find_by_token": ({"GetItem"}, False),
    "get_any": ({"GetItem"}, False),
    "get": ({"GetItem"}, False),
    "list_for_org": ({"BatchGetItem"}, True),
    "mark_started": ({"UpdateItem"}, False),
    "request_cancel": ({"UpdateItem"}, False),
    "finish": ({"UpdateItem"}, False),
    "mark_running": ({"UpdateItem"}, False),
    "forget_password": ({"UpdateItem"}, False),
    "get_item": ({"GetItem"}, False),
    "record_item": ({"PutItem", "UpdateItem", "GetItem"}, False),
    "item_started": ({"UpdateItem"}, False),
    "decide_item": ({"UpdateItem"}, False),
    "list_items": ({"Query"}, False),
    "outcome_counts": ({"Query"}, False),
    "recorded_job_ids": ({"Query"}, False),
}
# domain.operation_outcomes.answer, reached from every settlement (run_settled)
_ANSWER_ITEM = {"decide_item", "get_item"}
FUNCTION_OPERATIONS: dict[str, set[str]] = {
    "ApiFunction": {
        "create",
        "find_by_token",
        "get",
        "list_for_org",
        "mark_started",
        "request_cancel",
        "list_items",
        "outcome_counts",
    }
    | _ANSWER_ITEM,
    "CompleteRunFunction": _ANSWER_ITEM,
    "ReconcileFunction": _ANSWER_ITEM,
    "OperationItemFunction": {
        "get_any",
        "outcome_counts",  # the final tally, written as the operation ends
        "recorded_job_ids",  # the items a normally ended map left unrecorded
        "record_item",
        "mark_running",
        "item_started",
        "finish",
        "forget_password",
    }
    | _ANSWER_ITEM,
}

# src/clients: port method -> IAM actions (the boto3 calls are checked against the sources).
CLIENTS: dict[str, dict[str, set[str]]] = {
    "clients/storage.py": {
        "put_text": {"s3:PutObject"},  # put_object
        "get_text": {"s3:GetObject"},  # get_object
    },
    "clients/secrets.py": {
        "put_password": {"kms:Encrypt"},  # encrypt
        "get_password": {"kms:Decrypt"},  # decrypt
        "delete_password": set(),  # nothing outside the reference: forgetting it deletes
    },
    "clients/executions.py": {
        "start": {"states:StartExecution"},  # start_execution
        "status": {"states:DescribeExecution"},  # describe_execution
        "stop": {"states:StopExecution"},  # stop_execution
    },
    "clients/task_tokens.py": {
        "start_operation": {"states:StartExecution"},  # start_execution (BulkOperation)
        "succeed": {"states:SendTaskSuccess"},  # send_task_success
    },
}
CLIENT_BOTO_CALLS = {
    "clients/storage.py": {"put_object", "get_object"},
    "clients/secrets.py": {"encrypt", "decrypt"},
    "clients/executions.py": {"start_execution", "describe_execution", "stop_execution"},
    "clients/task_tokens.py": {"start_execution", "send_task_success"},
}

# The JobsTable's indexes (state.repository): both queried by the same paths.
INDEXES = ("listing", "failures")

# --- what each function's path reaches -----------------------------------------------------------

# domain.audit.record_event: append_event, then trim_events for the bounded kinds.
_RECORD_EVENT = {"append_event", "trim_events"}
# domain.claims.claim_for_execution: get_job; a redrive reclaims and records run_redriven.
_CLAIM_FOR_EXECUTION = {"get_job", "reclaim_for_redrive"} | _RECORD_EVENT
# domain.settlement.settle_execution: get_job, the run's history row, settle_run (retried on
# a fresh get_job), event.
_SETTLE_EXECUTION = {"get_job", "get_run", "settle_run"} | _RECORD_EVENT
# domain.passwords.discard_spent_password: secrets.delete_password, then the reference cleared.
_DISCARD_PASSWORD = {"forget_password_secret"}

# Repository methods per function (handlers/wiring.py: jobs() / step6_deps() / api_deps()).
FUNCTION_REPOSITORY: dict[str, set[str]] = {
    # handlers.prepare_run -> domain.phase_tasks.prepare_run: get_job, claim_new_run and
    # run_started for an execution started outside the API, claim_for_execution
    "PrepareRunFunction": {"get_job", "claim_new_run"} | _RECORD_EVENT | _CLAIM_FOR_EXECUTION,
    # handlers.phase -> domain.phase_tasks.run_phase: claim_for_execution, record_skips, the
    # runner's checkpoint_sub_step, sub_step_failed events
    **{
        f"Phase{n}Function": {"record_skips", "checkpoint_sub_step"}
        | _CLAIM_FOR_EXECUTION
        | _RECORD_EVENT
        for n in range(1, 5)
    },
    # handlers.complete_run -> domain.phase_tasks.complete_run: claim, settle, discard_password
    "CompleteRunFunction": _CLAIM_FOR_EXECUTION | _SETTLE_EXECUTION | _DISCARD_PASSWORD,
    # handlers.reconcile -> domain.settlement.settle_execution (the event carries the status:
    # no DescribeExecution), then domain.passwords.discard_spent_password
    "ReconcileFunction": _SETTLE_EXECUTION | _DISCARD_PASSWORD,
    # handlers.api: onboarding.create_batch (create_batch, append_events);
    # search.list_batches / read_batch / search_jobs (get_batch, list_batches, list_listings,
    # get_jobs + reconcile_stale -> settle) / failure_groups (get_batch, list_failures);
    # reads.read_job (get_job_for_org, reconcile_stale) / read_events (get_job_for_org,
    # list_events); batch_actions.submit_step5_selected / resume_selected (get_batch,
    # list_listings, get_jobs, get_job) -> runs.start_run (claim_new_run, release_claim when the
    # start fails, record_event)
    "PlatformSandboxFunction": set(),
    "ApiFunction": {
        "create_batch",
        "append_events",
        "get_batch",
        "list_batches",
        "list_listings",
        "list_failures",
        "get_jobs",
        # operations.list_operation_jobs: the names of items whose run has not started yet
        "restaurant_names",
        "get_job",
        "get_job_for_org",
        "list_events",
        "list_runs",
        "claim_new_run",
        "release_claim",
        # domain.operator_actions: amend the config, skip (cancel is Step Functions only)
        "amend_config",
        "record_operator_change",
        # domain.pipeline_actions: a JobPipeline claimed and started, its step recorded
        # failed when Step Functions refuses the start (pipeline_failures.record_failure)
        "claim_pipeline",
        "advance_pipeline",
    }
    | _SETTLE_EXECUTION
    | _RECORD_EVENT,
    # handlers.operation_item -> domain.operation_items: the job read, checked and claimed as
    # the batch calls do (runs.start_run, onboarding.submit_step5, operator_actions.cancel_run,
    # settlement.reconcile_stale for a redriven item)
    "OperationItemFunction": {
        "get_job",
        "get_job_for_org",
        "claim_new_run",
        "release_claim",
    }
    | _SETTLE_EXECUTION
    | _RECORD_EVENT,
    # handlers.pipeline_steps -> domain.pipeline_steps: the job read, the step's outcome, an
    # event of a kind each job has at most a few of (not trimmed)
    **{f"Step{n}Function": {"get_job", "advance_pipeline", "append_event"} for n in range(1, 5)},
    # domain.pipeline_failures.record_failure: step_failed events are trimmed
    "StepFailedFunction": {"get_job", "advance_pipeline"} | _RECORD_EVENT,
}

# The platform sandbox (PlatformSandboxFunction): state.platform_sandbox's methods -> the
# DynamoDB actions on PlatformSandboxTable. A commit is one transaction of an Update and Puts
# (authorised item by item) and reads back what stood in its way when it is cancelled.
SANDBOX_STATE: dict[str, set[str]] = {
    "add_fault": {"GetItem", "UpdateItem"},
    "clear_faults": {"GetItem", "UpdateItem"},
    "faults": {"GetItem"},
    "set_latency": {"UpdateItem"},
    "begin_call": {"GetItem", "UpdateItem"},
    "get_object": {"GetItem"},
    "objects": {"Scan"},
    "account_for": {"GetItem"},
    "menu_items": {"GetItem"},
    "stored": {"GetItem"},
    "effect_count": {"GetItem"},
    "commit": {"UpdateItem", "PutItem", "GetItem"},
    "ledger": {"Scan"},
    "reset": {"Scan", "BatchWriteItem"},
}
# What the deployed handler reaches: the contract's operations (clients.simulator over the
# state) and the fault drills (clients.platform_sandbox). The listings and the reset serve
# local tests only.
SANDBOX_REACHES = set(SANDBOX_STATE) - {"objects", "ledger", "reset", "set_latency"}

# Grants a phase holds only in one platform mode (template Conditions), from
# handlers.wiring._platform: SigV4 requests to the sandbox's IAM function URL (Lambda wants
# both actions for that), or the real platform's API key read from Secrets Manager.
PHASE_PLATFORM_GRANTS: dict[str, set[str]] = {
    "UseSandbox": {"lambda:InvokeFunctionUrl", "lambda:InvokeFunction"},
    "UseRealPlatform": {"secretsmanager:GetSecretValue"},
}

# Port methods per function besides the repository (handlers/wiring.py): the API stores
# passwords (onboarding.submit_step5), starts runs (runs.start_run) and describes stale ones
# (settlement.reconcile_stale); CompleteRun and Reconcile delete spent passwords
# (passwords.discard_spent_password, via wiring.secret_store()). The phases' store and secret
# calls are derived from the sub-steps (phase_port_calls). PrepareRun builds the repository alone.
FUNCTION_PORTS: dict[str, set[str]] = {
    # operator_actions: a new password (amend), StopExecution (cancel)
    "ApiFunction": {"put_password", "start", "status", "stop", "put_text", "start_operation"},
    # a submit_step5 item: the shared config (S3), the typed or a generated password; finish
    # deletes the operation's typed password
    "OperationItemFunction": {
        "start",
        "status",
        "stop",
        "put_password",
        "get_password",
        "delete_password",
        "get_text",
    },
    "CompleteRunFunction": {"delete_password"},
    "ReconcileFunction": {"delete_password"},
}
# The handlers that build the secret store for deleting (wiring.secret_store()), by function.
SECRET_STORE_HANDLERS = {
    "handlers/complete_run.py": "CompleteRunFunction",
    "handlers/reconcile.py": "ReconcileFunction",
}

PHASE_OF_HANDLER = re.compile(r"handlers\.phase\.(phase[1-4])")
PORT_CALL = re.compile(
    r"\b(store|secrets)\.(put_text|get_text|put_password|get_password|delete_password)\("
)


def phase_port_calls(phase: str) -> set[str]:
    """The object/secret store methods the sub-steps of `phase` call (their modules' source)."""
    calls = set()
    for spec in SUB_STEPS.values():
        if spec.phase == phase:
            source = inspect.getsource(importlib.import_module(spec.logic.__module__))
            calls |= {method for _, method in PORT_CALL.findall(source)}
    return calls


def client_actions(methods: Iterable[str]) -> set[str]:
    actions: set[str] = set()
    for method in methods:
        (found,) = [m[method] for m in CLIENTS.values() if method in m]
        actions |= found
    return actions


def expected_grants(logical_id: str, handler: str) -> tuple[set[str], bool]:
    """(IAM actions, queries the indexes) the function's code path needs."""
    actions: set[str] = set()
    index = False
    for method in FUNCTION_REPOSITORY[logical_id]:
        table_actions, queries_index = REPOSITORY[method]
        actions |= {f"dynamodb:{a}" for a in table_actions}
        index |= queries_index
    if index:
        actions.add("dynamodb:Query")
    for method in FUNCTION_OPERATIONS.get(logical_id, set()):
        table_actions, queries_index = OPERATION_REPOSITORY[method]
        actions |= {f"dynamodb:{a}" for a in table_actions}
        index |= queries_index
    if index:
        actions.add("dynamodb:Query")
    if logical_id in FUNCTION_OPERATIONS:
        # every settlement may answer a bulk operation's item (operation_outcomes.run_settled)
        actions.add("states:SendTaskSuccess")
    ports = set(FUNCTION_PORTS.get(logical_id, set()))
    phase = PHASE_OF_HANDLER.fullmatch(handler)
    if phase:
        ports |= phase_port_calls(phase.group(1))
    if logical_id == "PlatformSandboxFunction":
        actions |= {f"dynamodb:{a}" for m in SANDBOX_REACHES for a in SANDBOX_STATE[m]}
    return actions | client_actions(ports), index


def expected_conditional_grants(handler: str) -> dict[str, set[str]]:
    return PHASE_PLATFORM_GRANTS if PHASE_OF_HANDLER.fullmatch(handler) else {}


def _statements(resource: dict[str, Any], condition: str | None = None) -> list[dict[str, Any]]:
    """The Allow statements granted unconditionally, or only under `condition`
    (`!If [condition, statement, !Ref AWS::NoValue]`)."""
    statements = []
    for policy in resource["Properties"].get("Policies", []):
        assert isinstance(policy, dict) and set(policy) == {"Statement"}, (
            f"only inline statements, no managed policy or SAM policy template: {policy}"
        )
        for statement in policy["Statement"]:
            if "Fn::If" in statement:
                name, granted_then, otherwise = statement["Fn::If"]
                assert otherwise == {"Ref": "AWS::NoValue"}, statement
                if name == condition:
                    statements.append(granted_then)
            elif condition is None:
                statements.append(statement)
    return statements


def conditions_granted(resource: dict[str, Any]) -> set[str]:
    return {
        statement["Fn::If"][0]
        for policy in resource["Properties"].get("Policies", [])
        for statement in policy.get("Statement", [])
        if "Fn::If" in statement
    }


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def granted(resource: dict[str, Any], condition: str | None = None) -> dict[str, list[Any]]:
    """Action -> the resources it is granted on (Allow statements only; there are no Denies)."""
    grants: dict[str, list[Any]] = {}
    for statement in _statements(resource, condition):
        assert statement["Effect"] == "Allow"
        assert "NotAction" not in statement and "NotResource" not in statement
        for action in _as_list(statement["Action"]):
            grants.setdefault(action, []).extend(_as_list(statement["Resource"]))
    return grants


# --- the tables agree with the code ---------------------------------------------------------------


def test_repository_table_covers_every_method() -> None:
    public = {
        name
        for name, member in inspect.getmembers(JobRepository, inspect.isfunction)
        if not name.startswith("_")
    }
    assert set(REPOSITORY) == public


def test_operation_repository_table_covers_every_method() -> None:
    from state.operations import OperationRepository

    public = {
        name
        for name, member in inspect.getmembers(OperationRepository)
        if callable(member) and not name.startswith("_")
    }
    assert set(OPERATION_REPOSITORY) == public


def test_repository_calls_are_the_ones_mapped() -> None:
    source = (SRC / "state" / "repository.py").read_text(encoding="utf-8")
    calls = set(re.findall(r"self\._(?:table|client)\.(\w+)\(", source))
    calls |= {f"writer.{c}" for c in re.findall(r"\bwriter\.(\w+)\(", source)}
    assert calls == set(BOTO_TO_IAM), "a DynamoDB call is not mapped to its IAM action"
    # transactions hold Update items only (else ConditionCheckItem / PutItem / DeleteItem)
    kinds = set(re.findall(r'\{"(Update|Put|Delete|ConditionCheck)": \{', source))
    assert kinds == {"Update", "Put"}
    mapped = {a for actions, _ in REPOSITORY.values() for a in actions}
    assert {f"dynamodb:{a}" for a in mapped} | {"dynamodb:Query"} == set(BOTO_TO_IAM.values())


@pytest.mark.parametrize("path", sorted(CLIENTS))
def test_client_calls_are_the_ones_mapped(path: str) -> None:
    source = (SRC / path).read_text(encoding="utf-8")
    assert set(re.findall(r"self\._client\.(\w+)\(", source)) == CLIENT_BOTO_CALLS[path]


def test_only_the_sub_steps_and_onboarding_use_the_stores() -> None:
    users = {
        str(path.relative_to(SRC))
        for package in ("domain", "handlers")
        for path in (SRC / package).rglob("*.py")
        if PORT_CALL.search(path.read_text(encoding="utf-8"))
    }
    sub_step_modules = {
        str(Path(*spec.logic.__module__.split(".")).with_suffix(".py"))
        for spec in SUB_STEPS.values()
        if PORT_CALL.search(inspect.getsource(importlib.import_module(spec.logic.__module__)))
    }
    assert users == sub_step_modules | {
        "domain/operations.py",
        "domain/operation_items.py",
        "domain/onboarding.py",
        "domain/passwords.py",
        "domain/operator_actions.py",
    }
    amending = (SRC / "domain" / "operator_actions.py").read_text(encoding="utf-8")
    assert PORT_CALL.findall(amending) == [("secrets", "put_password")]
    onboarding = (SRC / "domain" / "onboarding.py").read_text(encoding="utf-8")
    assert PORT_CALL.findall(onboarding) == [("secrets", "put_password")]
    passwords = (SRC / "domain" / "passwords.py").read_text(encoding="utf-8")
    assert PORT_CALL.findall(passwords) == [("secrets", "delete_password")]
    # Step Functions: runs.start_run starts, settlement.reconcile_stale describes (API paths)
    execution_users = {
        str(path.relative_to(SRC))
        for package in ("domain", "handlers")
        for path in (SRC / package).rglob("*.py")
        if re.search(r"\bexecutions\.(start|status|stop)\(", path.read_text(encoding="utf-8"))
    }
    assert execution_users == {
        "domain/runs.py",
        "domain/settlement.py",
        "domain/operator_actions.py",
        "domain/pipeline_actions.py",  # JobPipeline executions (Steps 1-4)
        "domain/pipeline_failures.py",  # a stale JobPipeline execution described
    }


def test_only_complete_run_and_reconcile_delete_passwords() -> None:
    # domain.passwords is reached from CompleteRun's use case and the reconciler's handler only
    callers = {
        str(path.relative_to(SRC))
        for package in ("domain", "handlers")
        for path in (SRC / package).rglob("*.py")
        if re.search(r"\bdiscard_spent_password\(", path.read_text(encoding="utf-8"))
    }
    assert callers == {"domain/passwords.py", "domain/phase_tasks.py", "handlers/reconcile.py"}
    # in phase_tasks, by complete_run (the source after its def), never by a phase
    phase_tasks = (SRC / "domain" / "phase_tasks.py").read_text(encoding="utf-8")
    assert re.findall(r"\bdiscard_spent_password\(", phase_tasks.split("def complete_run(")[1])
    # the store they delete with is built by these handlers, and granted to their functions
    builders = {
        str(path.relative_to(SRC))
        for path in (SRC / "handlers").rglob("*.py")
        if "wiring.secret_store()" in path.read_text(encoding="utf-8")
    }
    assert builders == set(SECRET_STORE_HANDLERS)
    for function in SECRET_STORE_HANDLERS.values():
        assert FUNCTION_PORTS[function] == {"delete_password"}


def test_phase_derivation_sees_the_known_calls() -> None:
    # a guard on the derivation itself: these calls are known to exist
    assert phase_port_calls("phase1") == {"put_text", "get_password"}
    assert phase_port_calls("phase2") == {"put_text", "get_text"}
    assert phase_port_calls("phase3") == phase_port_calls("phase4") == set()


# --- the template grants exactly that ---------------------------------------------------------


def test_every_function_is_in_the_tables(template: dict[str, Any]) -> None:
    assert set(functions(template)) == set(FUNCTION_REPOSITORY)


@pytest.mark.parametrize("logical_id", sorted(FUNCTION_REPOSITORY))
def test_function_is_granted_exactly_what_its_code_calls(
    template: dict[str, Any], logical_id: str
) -> None:
    resource = template["Resources"][logical_id]
    actions, queries_index = expected_grants(logical_id, resource["Properties"]["Handler"])
    grants = granted(resource)
    assert set(grants) == actions
    for action, resources in grants.items():
        assert "*" not in action
        assert action not in {"dynamodb:Scan", "dynamodb:DeleteItem"}
        service = action.split(":")[0]
        for arn in resources:
            if action != "states:SendTaskSuccess":  # see _assert_scoped
                assert arn != "*", f"{logical_id}: {action} on every resource"
            _assert_scoped(service, action, arn, logical_id)
    for index in INDEXES:
        index_arn = {"Fn::Sub": f"${{JobsTable.Arn}}/index/{index}"}
        assert (index_arn in grants.get("dynamodb:Query", [])) == queries_index
    conditional = expected_conditional_grants(resource["Properties"]["Handler"])
    assert conditions_granted(resource) == set(conditional)
    for condition, expected in conditional.items():
        only_then = granted(resource, condition)
        assert set(only_then) == expected, f"{logical_id} under {condition}"
        for action, resources in only_then.items():
            for arn in resources:
                _assert_scoped(action.split(":")[0], action, arn, logical_id)


def test_the_sandbox_table_covers_every_state_method() -> None:
    public = {
        name
        for name, member in inspect.getmembers(DynamoDBPlatformState, inspect.isfunction)
        if not name.startswith("_")
    }
    assert public == set(SANDBOX_STATE)
    source = inspect.getsource(DynamoDBPlatformState)
    calls = set(re.findall(r"\._(?:table|client)\.(\w+)\(", source))
    assert calls == {"get_item", "update_item", "transact_write_items", "scan", "batch_writer"}


def _assert_scoped(service: str, action: str, arn: Any, logical_id: str) -> None:
    if logical_id == "PlatformSandboxFunction":
        assert arn == {"Fn::GetAtt": ["PlatformSandboxTable", "Arn"]}, f"{action} on {arn}"
    elif service == "lambda":
        assert arn == {"Fn::GetAtt": ["PlatformSandboxFunction", "Arn"]}, f"{action} on {arn}"
    elif action == "secretsmanager:GetSecretValue" and arn == {"Ref": "PlatformApiKeySecretArn"}:
        pass  # the real platform's key, named by its parameter
    elif service == "dynamodb":
        assert arn in (
            {"Fn::GetAtt": ["JobsTable", "Arn"]},
            *({"Fn::Sub": f"${{JobsTable.Arn}}/index/{index}"} for index in INDEXES),
        ), f"{logical_id}: {action} on {arn}"
        if arn != {"Fn::GetAtt": ["JobsTable", "Arn"]}:
            assert action == "dynamodb:Query"
    elif service == "s3":
        assert arn in (
            {"Fn::Sub": "${ArtifactsBucket.Arn}/*"},
            {"Fn::Sub": "${ArtifactsBucket.Arn}/operations/*"},  # bulk operations' lists
        ), f"{logical_id}: {action}"
    elif service == "kms":
        assert arn == {"Fn::GetAtt": ["PasswordKey", "Arn"]}, f"{logical_id}: {action} on {arn}"
    elif action == "states:StartExecution":
        assert arn in (
            {"Ref": "Step6StateMachine"},
            {"Ref": "BulkOperationStateMachine"},
            {"Ref": "JobPipelineStateMachine"},
        )
        if arn != {"Ref": "Step6StateMachine"}:
            assert logical_id == "ApiFunction"
    elif action == "states:SendTaskSuccess":
        # the tasks bulk operations' items wait on: IAM cannot scope a service integration's
        # task tokens to a state machine, "*" is the only resource it accepts for them
        assert arn == "*", f"{logical_id}: {action} on {arn}"
    elif action in ("states:DescribeExecution", "states:StopExecution"):
        machines = ["Step6StateMachine"]
        if action == "states:DescribeExecution" and logical_id == "ApiFunction":
            machines.append("JobPipelineStateMachine")  # a stale JobPipeline settled on read
        assert arn in [
            {
                "Fn::Sub": "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}"
                f":execution:${{{machine}.Name}}:*"
            }
            for machine in machines
        ], f"{logical_id}: {action} on {arn}"
    else:
        pytest.fail(f"{logical_id}: unexpected grant {action} on {arn}")
