"""Bounded concurrency for work over many jobs (DynamoDB and Step Functions calls are I/O)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from domain.observability import logger

MAX_WORKERS = 16

T = TypeVar("T")
R = TypeVar("R")


def each(items: Sequence[T], fn: Callable[[T], R]) -> list[R]:
    """`fn` over `items` concurrently (bounded), results in input order; log keys follow."""
    if len(items) <= 1:
        return [fn(item) for item in items]
    keys = logger.thread_safe_get_current_keys()

    def run(item: T) -> R:
        logger.thread_safe_clear_keys()
        logger.thread_safe_append_keys(**keys)
        return fn(item)

    with ThreadPoolExecutor(max_workers=min(MAX_WORKERS, len(items))) as pool:
        return list(pool.map(run, items))
