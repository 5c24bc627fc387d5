"""Why a sub-step or a run failed, in a code and in words: pure functions.

Every failure carries a stable `ErrorCode` (what the page and scripts branch on), whether a
plain resume can be expected to help (`retryable`, derived from the code), and a sentence for
people. Keys, ids, ARNs and Step Functions' JSON envelopes never go into the sentence: they
have fields of their own (`platform_code`, `execution`, `execution_error`).
"""

from __future__ import annotations

from dataclasses import dataclass

from clients.platform import PermanentPlatformError, TransientPlatformError
from clients.secrets import SecretStoreError
from domain.errors import InvalidConfigError
from domain.substeps.base import InvalidInputError
from state.errors import OutputTooLargeError
from state.models import ErrorCode

# Step Functions' error names for a time limit hit: the execution's or a state's
# (`States.Timeout`), or the Lambda function's own (`Sandbox.Timedout`).
FUNCTION_TIMEOUT = "Sandbox.Timedout"
TIMEOUT_ERRORS = frozenset({"States.Timeout", FUNCTION_TIMEOUT})


@dataclass(frozen=True)
class Cause:
    code: ErrorCode
    message: str
    platform_code: str | None = None


def _sentence(text: str) -> str:
    # Not capitalised: a message may start with a sub-step's name (`menuImport`).
    return text.strip().rstrip(".") + "."


def of_exception(error: BaseException) -> Cause:
    """The cause of a sub-step's failure from the exception its logic (or the port) raised."""
    if isinstance(error, InvalidConfigError | InvalidInputError):
        return Cause(ErrorCode.INVALID_CONFIG, _sentence(str(error)))
    if isinstance(error, PermanentPlatformError):
        return Cause(
            ErrorCode.PLATFORM_REJECTED,
            _sentence(f"The platform refused it: {error}"),
            platform_code=error.code,
        )
    if isinstance(error, TransientPlatformError):
        return Cause(
            ErrorCode.PLATFORM_UNAVAILABLE,
            _sentence(f"The platform did not answer in time, every retry included: {error}"),
        )
    if isinstance(error, OutputTooLargeError):
        return Cause(ErrorCode.OUTPUT_TOO_LARGE, _sentence(str(error)))
    if isinstance(error, SecretStoreError):
        return Cause(
            ErrorCode.INTERNAL_ERROR,
            "The account password could not be read from the secret store.",
        )
    return Cause(
        ErrorCode.INTERNAL_ERROR,
        f"An unexpected error ({type(error).__name__}) in this system; the logs have the details.",
    )


def of_interruption(execution_status: str, execution_error: str | None) -> Cause:
    """The cause for a sub-step a run left in progress when it ended."""
    if execution_error == FUNCTION_TIMEOUT:
        return Cause(ErrorCode.TIMED_OUT, "The function running this sub-step hit its time limit.")
    if execution_status == "TIMED_OUT" or execution_error in TIMEOUT_ERRORS:
        return Cause(
            ErrorCode.TIMED_OUT, "The run hit its time limit while this sub-step was running."
        )
    if execution_status == "ABORTED":
        return Cause(ErrorCode.INTERRUPTED, "The run was stopped while this sub-step was running.")
    return Cause(
        ErrorCode.INTERRUPTED,
        "The function running this sub-step stopped before it finished"
        + (f" ({execution_error})." if execution_error else "."),
    )


def of_execution(execution_status: str, execution_error: str | None) -> Cause:
    """The cause for a run that ended badly with no failed sub-step to blame."""
    if execution_status == "ABORTED":
        return Cause(ErrorCode.ABORTED, "The run was cancelled.")
    if execution_status == "TIMED_OUT" or execution_error in TIMEOUT_ERRORS:
        return Cause(ErrorCode.TIMED_OUT, "The run hit its time limit.")
    return Cause(
        ErrorCode.INTERRUPTED,
        "The run stopped before it finished"
        + (f" ({execution_error})." if execution_error else "."),
    )
