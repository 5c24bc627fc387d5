"""Starting and inspecting Step 6 executions (Step Functions)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import BotoCoreError

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient


class ExecutionStartError(Exception):
    """Step Functions refused to start the execution."""


class ExecutionStatusUnavailableError(Exception):
    """The execution could not be described (throttled, missing, no permission)."""


class ExecutionStopError(Exception):
    """Step Functions refused to stop the execution."""


# The error name an operator's cancel gives StopExecution (the cause says who and why).
CANCELLED_ERROR = "Cancelled"


class ExecutionRunner(Protocol):
    def execution_arn(self, name: str) -> str: ...

    def start(self, name: str, payload: dict[str, Any]) -> str: ...

    def status(self, execution_arn: str) -> tuple[str, str | None, str | None]:
        """The execution's status and, when it ended badly, its error's name and its cause."""
        ...

    def stop(self, execution_arn: str, *, cause: str) -> None:
        """Stop a running execution (StopExecution); one that has ended is left as it is."""
        ...


class StepFunctionsRunner:
    def __init__(self, client: SFNClient, state_machine_arn: str) -> None:
        self._client = client
        self._state_machine_arn = state_machine_arn

    def execution_arn(self, name: str) -> str:
        # Execution ARNs are derived from the state machine's: naming is deterministic, so the
        # claim can be written before the execution exists.
        return self._state_machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"

    def start(self, name: str, payload: dict[str, Any]) -> str:
        try:
            return self._client.start_execution(
                stateMachineArn=self._state_machine_arn, name=name, input=json.dumps(payload)
            )["executionArn"]
        except self._client.exceptions.ExecutionAlreadyExists:
            # A repeated start of the same run: the name is the run's, so this is our execution.
            return self.execution_arn(name)
        except (self._client.exceptions.ClientError, BotoCoreError) as error:
            # refused, or never answered (no connection, a read timeout): not started
            raise ExecutionStartError(str(error)) from error

    def status(self, execution_arn: str) -> tuple[str, str | None, str | None]:
        try:
            described = self._client.describe_execution(executionArn=execution_arn)
        except self._client.exceptions.ClientError as error:
            raise ExecutionStatusUnavailableError(str(error)) from error
        return described["status"], described.get("error"), described.get("cause")

    def stop(self, execution_arn: str, *, cause: str) -> None:
        try:
            self._client.stop_execution(
                executionArn=execution_arn, error=CANCELLED_ERROR, cause=cause[:32_768]
            )
        except self._client.exceptions.ExecutionDoesNotExist as error:
            raise ExecutionStopError(str(error)) from error
        except self._client.exceptions.ClientError as error:
            raise ExecutionStopError(str(error)) from error
