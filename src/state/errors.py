"""Domain errors of the persistence layer; handlers map them to HTTP once."""

from __future__ import annotations


class StateError(Exception):
    """Base of every persistence-layer domain error."""


class NotFoundError(StateError):
    """No such item, or it belongs to another org (the two are indistinguishable on purpose)."""


class ConflictError(StateError):
    """A conditional write lost: the item is not in the state the caller expected."""

    def __init__(self, message: str, *, active_execution: str | None = None) -> None:
        super().__init__(message)
        self.active_execution = active_execution

    @property
    def code(self) -> str:
        """The one code for this condition, in single-job answers and batch rejections alike:
        a run holds the job (`already_running`), or the job changed meanwhile (`conflict`)."""
        return "already_running" if self.active_execution is not None else "conflict"


class SupersededExecutionError(ConflictError):
    """This execution no longer owns the job: a newer run claimed it."""


class ItemTooLargeError(StateError):
    """A value exceeds its documented size limit."""


class OutputTooLargeError(ItemTooLargeError):
    """A sub-step's output is over MAX_OUTPUT_BYTES: large results belong in the object store."""
