"""Models and plain values as DynamoDB attribute values (numbers as Decimal), and back."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from pydantic_core import to_jsonable_python


def to_item(model: BaseModel) -> dict[str, Any]:
    """A model as a DynamoDB item: numbers as Decimal, no floats."""
    loaded: dict[str, Any] = json.loads(model.model_dump_json(), parse_float=Decimal)
    return loaded


def to_attr(value: Any) -> Any:
    """Any value (models, lists of models, datetimes) as a DynamoDB attribute value."""
    return json.loads(json.dumps(to_jsonable_python(value)), parse_float=Decimal)


def from_item(value: Any) -> Any:
    """DynamoDB's Decimals back to int/float, recursively."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: from_item(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_item(v) for v in value]
    return value
