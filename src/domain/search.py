"""Finding jobs: a batch's jobs filtered, searched, sorted and paged; failures grouped by
cause; the org's batches paged; a batch with its counts and its first page of jobs.

Everything reads listings (the job summaries the `listing` and `failures` indexes project),
never whole jobs and never a table Scan: one bounded query per batch (a batch holds at most
MAX_BATCH_JOBS jobs), then filter and sort in memory. Counts are derived from the same query
(`domain.summary.job_counts`): the index is eventually consistent, so a count can lag a job's
write by a moment, and is exact once the jobs are settled.

Cursors are opaque: base64 of the position and a hash of the query they belong to, so a
cursor from another query (other filters, sort or batch) is refused (422 naming `cursor`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from clients.executions import ExecutionRunner
from domain.catalogue import SUB_STEPS
from domain.concurrency import each
from domain.errors import InvalidRequestError
from domain.outcome import batch_status
from domain.settlement import reconcile_stale
from domain.summary import job_counts, listing_of
from state.models import (
    PHASE_NAMES,
    Batch,
    BatchStatus,
    ErrorCode,
    JobListing,
    PhaseName,
    StepStatus,
    utc_now,
)
from state.repository import JobRepository

Sort = Literal["created", "name", "status", "updated"]
Order = Literal["asc", "desc"]
SORTS: tuple[Sort, ...] = ("created", "name", "status", "updated")
MAX_PAGE = 200
DEFAULT_PAGE = 50
# The batch read's first page of jobs (the rest through /jobs).
BATCH_READ_PAGE = 100
MAX_BATCH_PAGE = 100
DEFAULT_BATCH_PAGE = 20
# A failure group lists its job ids up to this many (its count is always whole).
MAX_GROUP_IDS = 1_000
# A read reconciles only jobs whose run was claimed this long ago, at most this many per read
# (a lost status-change event never leaves a job stuck; the cost per request stays bounded).
RECONCILE_STALE_AFTER = timedelta(seconds=30)
MAX_RECONCILE_PER_READ = 20


@dataclass(frozen=True)
class JobQuery:
    """Which of a batch's jobs, in what order, from where. Empty filters match everything."""

    status: frozenset[StepStatus] = frozenset()
    step6_status: frozenset[StepStatus] = frozenset()
    failed_phase: PhaseName | None = None
    failed_sub_step: str | None = None
    error_code: ErrorCode | None = None
    resumable: bool | None = None
    current_step: int | None = None  # e.g. the jobs waiting at Step 2 or 3
    q: str | None = None
    sort: Sort = "created"
    order: Order = "asc"
    limit: int = DEFAULT_PAGE
    cursor: str | None = field(default=None, compare=False)

    def matches(self, listing: JobListing) -> bool:
        s = listing.summary
        return (
            (not self.status or listing.status in self.status)
            and (not self.step6_status or s.step6_status in self.step6_status)
            and (self.failed_phase is None or s.failed_phase == self.failed_phase)
            and (self.failed_sub_step is None or s.failed_sub_step == self.failed_sub_step)
            and (self.error_code is None or s.error_code == self.error_code)
            and (self.resumable is None or s.resumable == self.resumable)
            and (self.current_step is None or listing.current_step == self.current_step)
            and (not self.q or self.q.casefold() in s.name_lower)
        )

    def fingerprint(self, scope: str) -> str:
        """What a cursor of this query carries: everything but the position."""
        shape = json.dumps(
            [
                scope,
                sorted(self.status),
                sorted(self.step6_status),
                self.failed_phase,
                self.failed_sub_step,
                self.error_code,
                self.resumable,
                self.current_step,
                self.q,
                self.sort,
                self.order,
            ]
        )
        return hashlib.sha256(shape.encode()).hexdigest()[:16]


# ---------------------------------------------------------------- parsing query parameters


def _values(raw: Sequence[str] | None) -> list[str]:
    """Repeated and comma-separated values, as one list."""
    return [v.strip() for item in raw or [] for v in item.split(",") if v.strip()]


def _enum_set(raw: Sequence[str] | None, name: str) -> frozenset[StepStatus]:
    found = set()
    for value in _values(raw):
        try:
            found.add(StepStatus(value))
        except ValueError:
            allowed = ", ".join(s.value for s in StepStatus)
            raise InvalidRequestError(
                f"{name}: {value!r} is not a status (one of {allowed})", field=name
            ) from None
    return frozenset(found)


def parse_query(
    *,
    status: Sequence[str] | None = None,
    step6_status: Sequence[str] | None = None,
    failed_phase: str | None = None,
    failed_sub_step: str | None = None,
    error_code: str | None = None,
    resumable: bool | None = None,
    current_step: int | None = None,
    q: str | None = None,
    sort: str = "created",
    order: str = "asc",
    limit: int = DEFAULT_PAGE,
    cursor: str | None = None,
) -> JobQuery:
    """A query from the request's parameters; InvalidRequestError naming the bad one."""
    if failed_phase is not None and failed_phase not in PHASE_NAMES:
        raise InvalidRequestError(
            f"failed_phase: {failed_phase!r} is not a phase ({', '.join(PHASE_NAMES)})",
            field="failed_phase",
        )
    if failed_sub_step is not None and failed_sub_step not in SUB_STEPS:
        raise InvalidRequestError(
            f"failed_sub_step: {failed_sub_step!r} is not a sub-step", field="failed_sub_step"
        )
    code: ErrorCode | None = None
    if error_code is not None:
        try:
            code = ErrorCode(error_code)
        except ValueError:
            raise InvalidRequestError(
                f"error_code: {error_code!r} is not an error code", field="error_code"
            ) from None
    if sort not in SORTS:
        raise InvalidRequestError(f"sort: one of {', '.join(SORTS)}", field="sort")
    if order not in ("asc", "desc"):
        raise InvalidRequestError("order: asc or desc", field="order")
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidRequestError(f"limit: from 1 to {MAX_PAGE}", field="limit")
    return JobQuery(
        status=_enum_set(status, "status"),
        step6_status=_enum_set(step6_status, "step6_status"),
        failed_phase=failed_phase,
        failed_sub_step=failed_sub_step,
        error_code=code,
        resumable=resumable,
        current_step=current_step,
        q=q or None,
        sort=sort,
        order=order,  # type: ignore[arg-type]
        limit=limit,
        cursor=cursor or None,
    )


# ---------------------------------------------------------------- cursors


def _encode(position: Any, fingerprint: str) -> str:
    raw = json.dumps({"p": position, "h": fingerprint}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, fingerprint: str) -> Any:
    refused = InvalidRequestError(
        "cursor: not a cursor of this query (repeat the query without it)", field="cursor"
    )
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise refused from None
    if not isinstance(data, dict) or data.get("h") != fingerprint or "p" not in data:
        raise refused
    return data["p"]


# ---------------------------------------------------------------- reads


@dataclass(frozen=True)
class JobPage:
    jobs: list[JobListing]
    next_cursor: str | None
    total: int


@dataclass(frozen=True)
class BatchOverview:
    """A batch with its counts and status, derived from its jobs' listings."""

    batch: Batch
    status: BatchStatus


@dataclass(frozen=True)
class BatchPage:
    overview: BatchOverview
    jobs: JobPage


def _fresh(
    jobs: JobRepository, executions: ExecutionRunner, listings: list[JobListing]
) -> list[JobListing]:
    """`listings`, where runs claimed long ago have ended unseen, settled first (bounded)."""
    cutoff = utc_now() - RECONCILE_STALE_AFTER
    stale = sorted(
        (x for x in listings if x.active_execution is not None and x.summary.updated_at <= cutoff),
        key=lambda x: x.summary.updated_at,
    )[:MAX_RECONCILE_PER_READ]
    if not stale:
        return listings
    whole = jobs.get_jobs([x.job_id for x in stale])
    settled = {
        job.job_id: job for job in each(whole, lambda j: reconcile_stale(jobs, executions, j))
    }
    return [
        listing_of(settled[x.job_id])
        if x.job_id in settled and settled[x.job_id].active_execution is None
        else x
        for x in listings
    ]


def _overview(batch: Batch, listings: list[JobListing]) -> BatchOverview:
    counts = job_counts(listings)
    updated = max([batch.created_at, *(x.summary.updated_at for x in listings)])
    counted = batch.model_copy(update={"job_counts": counts, "updated_at": updated})
    return BatchOverview(counted, batch_status(counts))


_STATUS_ORDER = {status: i for i, status in enumerate(StepStatus)}
_KEYS: dict[Sort, Callable[[JobListing], Any]] = {
    "created": lambda x: (x.created_at, x.job_id),
    "name": lambda x: (x.summary.name_lower, x.job_id),
    "status": lambda x: (_STATUS_ORDER[x.status], x.created_at, x.job_id),
    "updated": lambda x: (x.summary.updated_at, x.job_id),
}


def _page(listings: list[JobListing], query: JobQuery, scope: str) -> JobPage:
    fingerprint = query.fingerprint(scope)
    offset = 0 if query.cursor is None else _decode(query.cursor, fingerprint)
    if not isinstance(offset, int) or offset < 0:
        raise InvalidRequestError("cursor: not a cursor of this query", field="cursor")
    matching = sorted(
        (x for x in listings if query.matches(x)),
        key=_KEYS[query.sort],
        reverse=query.order == "desc",
    )
    end = offset + query.limit
    following = _encode(end, fingerprint) if end < len(matching) else None
    return JobPage(matching[offset:end], following, len(matching))


def search_jobs(
    jobs: JobRepository,
    executions: ExecutionRunner,
    org_id: str,
    batch_id: str,
    query: JobQuery,
) -> JobPage:
    """A page of the batch's jobs that match `query` (NotFoundError for another org's)."""
    batch = jobs.get_batch(org_id, batch_id)
    listings = _fresh(jobs, executions, jobs.list_listings(batch.batch_id))
    return _page(listings, query, f"batch:{batch_id}")


def read_batch(
    jobs: JobRepository, executions: ExecutionRunner, org_id: str, batch_id: str
) -> BatchPage:
    """The batch, its counts and status, and its first BATCH_READ_PAGE jobs (created order)."""
    batch = jobs.get_batch(org_id, batch_id)
    listings = _fresh(jobs, executions, jobs.list_listings(batch.batch_id))
    first = _page(listings, JobQuery(limit=BATCH_READ_PAGE), f"batch:{batch_id}")
    return BatchPage(_overview(batch, listings), first)


def list_batches(
    jobs: JobRepository, org_id: str, *, limit: int = DEFAULT_BATCH_PAGE, cursor: str | None = None
) -> tuple[list[BatchOverview], str | None]:
    """A page of the org's batches, newest first, each with its counts."""
    if not 1 <= limit <= MAX_BATCH_PAGE:
        raise InvalidRequestError(f"limit: from 1 to {MAX_BATCH_PAGE}", field="limit")
    fingerprint = hashlib.sha256(f"batches:{org_id}".encode()).hexdigest()[:16]
    start = None if cursor is None else _decode(cursor, fingerprint)
    if start is not None and not (
        isinstance(start, dict) and all(isinstance(v, str) for v in start.values())
    ):
        raise InvalidRequestError("cursor: not a cursor of this query", field="cursor")
    try:
        page = jobs.list_batches(org_id, limit=limit, start=start)
    except ValueError as error:
        raise InvalidRequestError("cursor: not a cursor of this query", field="cursor") from error
    overviews = [_overview(batch, jobs.list_listings(batch.batch_id)) for batch in page.items]
    following = None if page.next_key is None else _encode(page.next_key, fingerprint)
    return overviews, following


# ---------------------------------------------------------------- failures by cause


@dataclass(frozen=True)
class FailureGroup:
    step: int | None  # Steps 1-4; None for Step 6 (phase and sub-step say where)
    phase: PhaseName | None
    sub_step: str | None
    error_code: ErrorCode | None
    platform_code: str | None
    sample_error: str | None
    count: int
    resumable_count: int
    job_ids: list[str]


def failure_groups(
    jobs: JobRepository, org_id: str, batch_id: str | None = None
) -> list[FailureGroup]:
    """The jobs that need action (of a batch, or the whole org), grouped by cause, biggest
    group first; each group's ids up to MAX_GROUP_IDS. NotFoundError for another org's batch."""
    if batch_id is not None:
        jobs.get_batch(org_id, batch_id)
    groups: dict[tuple[Any, ...], list[JobListing]] = {}
    for listing in jobs.list_failures(org_id, batch_id):
        s = listing.summary
        if not s.needs_action:  # the index lags a write that removed the job from it
            continue
        key = (s.failed_step, s.failed_phase, s.failed_sub_step, s.error_code, s.platform_code)
        groups.setdefault(key, []).append(listing)
    found = [
        FailureGroup(
            step=key[0],
            phase=key[1],
            sub_step=key[2],
            error_code=key[3],
            platform_code=key[4],
            sample_error=members[0].summary.short_error,
            count=len(members),
            resumable_count=sum(1 for m in members if m.summary.resumable),
            job_ids=[m.job_id for m in members[:MAX_GROUP_IDS]],
        )
        for key, members in groups.items()
    ]
    return sorted(
        found,
        key=lambda g: (-g.count, str(g.step), str(g.phase), str(g.sub_step), str(g.error_code)),
    )
