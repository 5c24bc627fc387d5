"""DynamoDB item sizes and the capacity units a request uses, by DynamoDB's documented rules.

Sizes are computed from the low-level (typed) JSON of an item, as it travels on the wire:
an attribute is its name's UTF-8 bytes plus its value; a string is its UTF-8 bytes, a number
about one byte per two significant digits plus one, a boolean or null one byte, a list or map
three bytes plus one per element plus the elements (a map's keys count too).

Units (on-demand request units, which follow the same rules as capacity units):
- write: 1 WRU per started 1 KB of the item (the larger of before and after for an update),
  x2 inside a transaction; a global secondary index the item is projected into costs its own
  write (projection ALL here: the index entry is about the item's size), x2 in a transaction;
- read: 1 RRU per started 4 KB, strongly consistent; half that eventually consistent; a
  Query sums the items it returns before rounding up.

Checked against DynamoDB Local's ReturnConsumedCapacity=INDEXES (a put, an update and a
transactional update of a 3.9 KB indexed item, a consistent get, a GSI query): the same units.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping
from typing import Any

KB = 1024
READ_BLOCK = 4 * KB


def number_size(text: str) -> int:
    digits = text.lstrip("-").replace(".", "").split("e")[0].split("E")[0]
    significant = digits.strip("0") or "0"
    return (len(significant) + 1) // 2 + 1 + (1 if text.startswith("-") else 0)


def value_size(value: Mapping[str, Any]) -> int:
    """The size of one typed attribute value, e.g. {"S": "abc"} or {"M": {...}}."""
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(str(inner).encode())
    if kind == "N":
        return number_size(str(inner))
    if kind == "B":
        return len(base64.b64decode(inner)) if isinstance(inner, str) else len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(value_size(v) + 1 for v in inner)
    if kind == "M":
        return 3 + sum(len(k.encode()) + value_size(v) + 1 for k, v in inner.items())
    if kind == "SS":
        return sum(len(s.encode()) for s in inner)
    if kind == "NS":
        return sum(number_size(n) for n in inner)
    if kind == "BS":
        return sum(len(base64.b64decode(b)) for b in inner)
    raise ValueError(f"not a DynamoDB attribute value type: {kind}")


def item_size(item: Mapping[str, Mapping[str, Any]]) -> int:
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def write_units(size_bytes: int, *, transactional: bool = False) -> int:
    units = max(1, math.ceil(size_bytes / KB))
    return units * 2 if transactional else units


def read_units(size_bytes: int, *, consistent: bool) -> float:
    units = max(1, math.ceil(size_bytes / READ_BLOCK))
    return float(units) if consistent else units / 2
