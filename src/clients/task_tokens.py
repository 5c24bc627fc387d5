"""Step Functions for bulk operations: starting the BulkOperation execution, answering the
task tokens its items wait on."""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

log = logging.getLogger(__name__)


class OperationStartError(Exception):
    """Step Functions refused to start the operation's execution."""


class TaskTokens(Protocol):
    def succeed(self, token: str, output: dict[str, Any]) -> bool:
        """Answer a waiting task; False when the token is answered, expired or unknown."""
        ...


class OperationEngine(Protocol):
    def start_operation(self, name: str, payload: dict[str, Any]) -> str: ...


class StepFunctionsTaskTokens:
    def __init__(self, client: SFNClient) -> None:
        self._client = client

    def succeed(self, token: str, output: dict[str, Any]) -> bool:
        errors = self._client.exceptions
        try:
            self._client.send_task_success(taskToken=token, output=json.dumps(output))
        except (errors.TaskTimedOut, errors.TaskDoesNotExist, errors.InvalidToken) as error:
            # Answered already (a redrive re-registered a newer token), or the item gave up.
            log.warning("task token not answered: %s", type(error).__name__)
            return False
        return True


class StepFunctionsOperations:
    def __init__(self, client: SFNClient, state_machine_arn: str) -> None:
        self._client = client
        self._arn = state_machine_arn

    def start_operation(self, name: str, payload: dict[str, Any]) -> str:
        try:
            return self._client.start_execution(
                stateMachineArn=self._arn, name=name, input=json.dumps(payload)
            )["executionArn"]
        except self._client.exceptions.ExecutionAlreadyExists:
            return self._arn.replace(":stateMachine:", ":execution:") + f":{name}"
        except self._client.exceptions.ClientError as error:
            raise OperationStartError(str(error)) from error


@lru_cache(maxsize=1)
def default_task_tokens() -> TaskTokens:
    """Built on first use, once per process: settlement answers tokens from any function."""
    import boto3

    return StepFunctionsTaskTokens(boto3.client("stepfunctions"))
