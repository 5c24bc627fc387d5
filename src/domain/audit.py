"""The job's audit trail: what happened to it, bounded where a job can repeat itself."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.observability import logger
from state.models import SYSTEM_ACTOR
from state.repository import JobRepository

# A sub-step that fails on every resume adds a resume, a sub-step failure and a failed run each
# time. A job keeps the newest EVENTS_KEPT events of each of these kinds (the latest failures
# stay visible, with the attempt count and last error in the progress itself); one-off events
# (job_created, step5_submitted, and Steps 1-4's step_completed and step_action_required, a few
# per job) are kept as they are.
EVENTS_KEPT = 10
BOUNDED_EVENTS = frozenset(
    {
        "sub_step_failed",
        "run_failed",
        "run_succeeded",
        "resume_requested",
        "run_redriven",
        "run_started",
        "cancel_requested",
        "config_amended",
        "rerun_requested",
        "step_failed",
        "step_retry_requested",
        "step_answered",
    }
)


def record_event(
    jobs: JobRepository,
    job_id: str,
    event_type: str,
    detail: Mapping[str, Any],
    *,
    at_most: int | None = None,
    actor: str = SYSTEM_ACTOR,
) -> None:
    """Append an event; trim its kind to the newest EVENTS_KEPT if it is a bounded kind.

    `at_most`, when the caller knows it, bounds how many events of this kind the job can have
    (e.g. one resume per run): while it is within EVENTS_KEPT the trim's query is skipped, so
    a batch-wide resume pays nothing for the bound until a job has been resumed ten times.
    """
    jobs.append_event(job_id, event_type, detail, actor=actor)
    if event_type not in BOUNDED_EVENTS or (at_most is not None and at_most <= EVENTS_KEPT):
        return
    try:
        jobs.trim_events(job_id, event_type, EVENTS_KEPT)
    except Exception:  # noqa: BLE001 - trimmed again with the next event of its kind
        logger.warning("audit trail not trimmed", event_type=event_type, exc_info=True)
