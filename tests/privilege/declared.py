"""The one place that says why a grant no recorded call uses is still needed deployed.

Each entry of NOT_CALLED_LOCALLY is checked both ways: a grant with no recorded call and no
entry here fails (an over-grant: remove it, or explain it here), and an entry whose grant is gone
or now used by a recorded call fails too (a stale explanation). CALLED_ONLY_ON_A_RACE holds the
grants whose calls depend on timing (a CI run made one of them and failed as "stale").
"""

from __future__ import annotations

# (principal, action) -> why the grant is needed on AWS though nothing local exercises it.
_VENDED_LOG_DELIVERY = (
    "Step Functions sets up the state machine's Logging (a vended log delivery to Step6LogGroup) "
    "with the state machine's role when the stack creates or updates it; no execution calls it, "
    "and moto does not deliver logs"
)
# What the state machines' roles may do to set up their vended log delivery.
_LOG_DELIVERY_ACTIONS = (
    "CreateLogDelivery",
    "GetLogDelivery",
    "UpdateLogDelivery",
    "DeleteLogDelivery",
    "ListLogDeliveries",
    "PutResourcePolicy",
    "DescribeResourcePolicies",
    "DescribeLogGroups",
)
_TRIM = (
    "domain.audit.record_event trims a bounded event kind (a job that keeps failing) to its "
    "newest EVENTS_KEPT through a batch_writer's deletes; the suites reach that bound in "
    "Phase4Function and ReconcileFunction only, where the same code path is recorded"
)
_STARTED_OUTSIDE_THE_API = (
    "An execution started outside the API (the console, the CLI) has no claim yet: "
    "domain.phase_tasks.prepare_run claims the job (UpdateItem), records run_started (PutItem) "
    "and trims bounded events (BatchWriteItem); the suites start every run through the API"
)
_MAP_CHILDREN = (
    "A Distributed Map runs its items as child executions of its own state machine (AWS: "
    "StartExecution on it, DescribeExecution and StopExecution on their executions); moto runs "
    "the items in process and calls nothing"
)
_ITEM_READER = (
    "The Distributed Map's ItemReader reads the operation's job list (s3:GetObject) with the "
    "state machine's role; moto's reader signs with a key of its own, which the local runtime "
    "cannot attribute"
)
_API_IN_PROCESS = (
    "tests/operations drives the bulk operations routes through handlers.api.handler in the "
    "test's process (its calls carry the runtime's own key, unattributed); a served API worker "
    "answers an operation's task token only when it settles, on read, a run whose status-change "
    "event has not arrived yet (the runtime delivers every one: a race)"
)
NOT_CALLED_LOCALLY: dict[tuple[str, str], str] = {
    **{
        ("BulkOperationStateMachine", f"states:{action}"): _MAP_CHILDREN
        for action in ("StartExecution", "DescribeExecution", "StopExecution")
    },
    ("BulkOperationStateMachine", "s3:GetObject"): _ITEM_READER,
    **{
        ("BulkOperationStateMachine", f"logs:{action}"): _VENDED_LOG_DELIVERY.replace(
            "Step6LogGroup", "BulkOperationLogGroup"
        )
        for action in _LOG_DELIVERY_ACTIONS
    },
    # (s3:PutObject is recorded: the README's bulk operations session starts an operation
    # through the served API)
    ("OperationItemFunction", "dynamodb:BatchWriteItem"): (
        "domain.audit.record_event trims a bounded event kind once a job has more than "
        "EVENTS_KEPT of it; no job of tests/operations is started that often by operations"
    ),
    ("StepFailedFunction", "dynamodb:BatchWriteItem"): (
        "domain.audit.record_event trims step_failed events once a job has more than "
        "EVENTS_KEPT of them (a step failing on every retry); no test retries a step that often"
    ),
    **{
        ("JobPipelineStateMachine", f"logs:{action}"): _VENDED_LOG_DELIVERY.replace(
            "Step6LogGroup", "JobPipelineLogGroup"
        )
        for action in _LOG_DELIVERY_ACTIONS
    },
    **{
        (principal, "dynamodb:BatchWriteItem"): _TRIM
        for principal in (
            "Phase1Function",
            "Phase2Function",
            "Phase3Function",
            "CompleteRunFunction",
        )
    },
    **{
        ("PrepareRunFunction", f"dynamodb:{action}"): _STARTED_OUTSIDE_THE_API
        for action in ("UpdateItem", "PutItem", "BatchWriteItem")
    },
    ("ReconcileFunction", "sqs:SendMessage"): (
        "The Lambda service sends an event the reconciler failed on after its asynchronous "
        "retries to ReconcileDeadLetterQueue with the function's role (SAM's DeadLetterQueue); "
        "the local runtime delivers status-change events synchronously"
    ),
    **{
        ("Step6StateMachine", f"logs:{action}"): _VENDED_LOG_DELIVERY
        for action in _LOG_DELIVERY_ACTIONS
    },
}

# (principal, action) -> why the grant is needed, for calls a given run may or may not make:
# they depend on timing (a lost race, a run older than the stale threshold when a served worker
# reads it), so a run that makes them must not fail as "stale", nor one that does not as
# "over-granted". Checked only to be still granted.
CALLED_ONLY_ON_A_RACE: dict[tuple[str, str], str] = {
    # Reading a job is one Query (its item and its restaurant's); GetItem is left for the
    # read-back of who holds the job after a lost conditional write (_peek_active_execution).
    **{
        (function, "dynamodb:GetItem"): "read-back of the job's active execution after a lost "
        "conditional write (JobRepository._peek_active_execution): called only on a lost race"
        for function in ("Phase1Function", "Phase4Function", "PrepareRunFunction")
    },
    ("ApiFunction", "states:SendTaskSuccess"): _API_IN_PROCESS,
    ("ApiFunction", "states:DescribeExecution"): (
        "Reads settle a job whose JobPipeline execution ended without recording its step "
        "(domain.pipeline_failures.settle_stale), as they settle Step 6's runs; the API handler "
        "that reaches it mostly runs in the test's process in tests/api (unattributed), and a "
        "served worker describes only executions older than the stale threshold"
    ),
}

# Principals no feeding suite invokes as a principal of its own (recorded-none) -> why.
NOT_INVOKED: dict[str, str] = {}

# AWS managed policies SAM attaches -> why (their documents live in IAM, not in the template;
# the calls they allow are made by the services on the function's behalf, not by its code).
MANAGED_POLICIES: dict[str, str] = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole": (
        "The Lambda service writes each function's output to its log group (logs:CreateLogStream,"
        " logs:PutLogEvents); SAM attaches it to every function role"
    ),
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess": (
        "Tracing: Active (Globals) and the state machine's Tracing: the X-Ray segments Lambda and "
        "Step Functions send"
    ),
}
