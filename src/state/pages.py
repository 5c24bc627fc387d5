"""Reading every page of a DynamoDB Query."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


def query_all(table: Table, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every item the query finds, page after page (`kwargs`: Table.query's arguments)."""
    while True:
        page = table.query(**kwargs)
        yield from page.get("Items", [])
        start = page.get("LastEvaluatedKey")
        if start is None:
            return
        kwargs["ExclusiveStartKey"] = start
