"""The size of a DynamoDB item, counted the way DynamoDB counts it.

DynamoDB's formula (developer guide, "DynamoDB item sizes and formats"): the sum over the
attributes of the UTF-8 bytes of the name plus the size of the value, where

- a string is its UTF-8 bytes, a binary its raw bytes;
- a number is 1 byte per pair of significant digits (pairs aligned on the decimal point,
  leading and trailing zeroes trimmed), plus 1, plus 1 more if it is negative;
- a null or a boolean is 1 byte;
- a list or a map is 3 bytes, plus each element (a map element counts its key's bytes too),
  plus 1 byte per element.

DynamoDB Local agrees with this to the byte, including where the numbers' digit pairs are
aligned (tests/repository/test_sizes.py probes its 409,600-byte limit with our own items).
moto 5.2.5 does not: it counts no list or map overhead, counts a number as its decimal string
and stops at 405,000 bytes (docs/dynamodb-local.md).

Values are those of the boto3 resource layer: str, bool, int, Decimal (float is accepted),
None, bytes, list and dict (the repository stores no sets and no binary attributes).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Context, Decimal
from typing import Any

from state.attrs import to_attr
from state.errors import OutputTooLargeError
from state.models import MAX_OUTPUT_BYTES

_CONTAINER_OVERHEAD = 3
_ELEMENT_OVERHEAD = 1
# DynamoDB numbers have up to 38 significant digits; keep them all while normalising.
_NUMBERS = Context(prec=38)


def number_size(value: int | float | Decimal) -> int:
    number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    if number.is_zero():
        return 1
    sign, digits, exponent = number.normalize(_NUMBERS).as_tuple()
    assert isinstance(exponent, int)  # finite: DynamoDB has no NaN or Infinity
    highest = len(digits) - 1 + exponent  # power of ten of the first significant digit
    pairs = highest // 2 - exponent // 2 + 1
    return pairs + 1 + sign


def value_size(value: Any) -> int:
    """The size of one attribute value (without its name)."""
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, bool) or value is None:
        return 1
    if isinstance(value, int | float | Decimal):
        return number_size(value)
    if isinstance(value, bytes | bytearray):
        return len(value)
    if isinstance(value, Mapping):
        return _CONTAINER_OVERHEAD + sum(
            len(str(key).encode()) + value_size(element) + _ELEMENT_OVERHEAD
            for key, element in value.items()
        )
    if isinstance(value, list | tuple):
        return _CONTAINER_OVERHEAD + sum(
            value_size(element) + _ELEMENT_OVERHEAD for element in value
        )
    raise TypeError(f"not a DynamoDB attribute value: {type(value).__name__}")


def item_size(item: Mapping[str, Any]) -> int:
    """The size of a whole item: each attribute's name and value, no map overhead at the top."""
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def check_output(sub_step: str, output: Mapping[str, Any] | None) -> None:
    """Refuse a sub-step output over MAX_OUTPUT_BYTES, measured as DynamoDB counts it.

    The one rule for outputs: the runner applies it before checkpointing (the sub-step fails
    cleanly) and the repository before writing (nothing is written).
    """
    if output is None:
        return
    size = value_size(to_attr(output))
    if size > MAX_OUTPUT_BYTES:
        raise OutputTooLargeError(
            f"{sub_step} output is {size} bytes; the limit is {MAX_OUTPUT_BYTES} "
            "(large results belong in the object store, with their keys in the output)"
        )
