"""Domain errors of Step 6 that end an execution or reject a request."""

from __future__ import annotations


class BlockingSubStepFailedError(Exception):
    """A blocking sub-step failed: the execution fails at this phase (redrive restarts it)."""

    def __init__(self, phase: str, sub_step: str, error: str) -> None:
        super().__init__(f"{phase}/{sub_step} failed: {error}")
        self.phase = phase
        self.sub_step = sub_step


class InvalidResumePointError(Exception):
    """resume_from would skip a phase that is not completed."""


class NotResumableError(Exception):
    """There is nothing to resume (or Step 5 is not done)."""


class StepAlreadyCompletedError(Exception):
    """Step 5 is completed: its configuration can no longer change."""


class InvalidRequestError(ValueError):
    """Input that fits the schema but breaks a domain rule; the API answers 422 naming `field`."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class InvalidConfigError(Exception):
    """The job's execution config cannot be used as it is (e.g. no password for a new account):
    the operator amends it, then resumes."""


class NotRunningError(Exception):
    """There is no active run to cancel."""


class ConfigInUseError(Exception):
    """An amendment changes config fields that completed sub-steps have read."""

    def __init__(self, message: str, *, used: dict[str, list[str]]) -> None:
        super().__init__(message)
        self.used = used


class NotRerunnableError(Exception):
    """A re-run names a sub-step that is not declared re-runnable (it creates a unique
    object), or one that has not completed."""


class BlockingSubStepError(Exception):
    """An operator may skip only non-blocking sub-steps."""


class NotFailedError(Exception):
    """An operator may skip only a failed or dependency-skipped sub-step."""


class StepNotCompletedError(Exception):
    """The action needs Step 5 completed (a config to amend, a Step 6 to fix)."""


class NotCompletedError(Exception):
    """A re-run names a sub-step that has not completed (a resume runs it)."""


class StepsPendingError(Exception):
    """Step 5 waits for Steps 1-4: the job is still finding its restaurant's data."""


class StepNotFailedError(Exception):
    """A step is retried only from a failure (a completed step never runs again)."""


class NotWaitingError(Exception):
    """The operator's answer to Step 2 or 3 comes only while that step waits for it."""
