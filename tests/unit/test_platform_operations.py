"""`clients.platform.OPERATIONS`, the one table the HTTP adapter and service work from."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from clients.platform import OPERATIONS, CallMeta, OperationsByName, PlatformResult, PumpdPlatform

META = CallMeta(job_id="job-1", sub_step="menuImport", restaurant_name="Cafe")


def test_the_table_lists_every_mutating_operation_of_the_port_with_its_arguments() -> None:
    port = {
        name: tuple(inspect.signature(member).parameters)[2:]  # after self and meta
        for name, member in inspect.getmembers(PumpdPlatform, inspect.isfunction)
        if not name.startswith("_") and name != "find_account"
    }
    assert port == OPERATIONS


class Recorder(OperationsByName):
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def perform(self, meta: CallMeta, operation: str, params: dict[str, Any]) -> PlatformResult:
        self.calls.append((operation, params))
        return PlatformResult(id="x")


def test_an_operation_becomes_one_perform_call_with_its_keyword_arguments() -> None:
    recorder = Recorder()
    result = recorder.import_menu(META, restaurant_id="r1", menu_import={"format": "f"})
    assert result == PlatformResult(id="x")
    assert recorder.calls == [
        ("import_menu", {"restaurant_id": "r1", "menu_import": {"format": "f"}})
    ]
    assert recorder.import_menu.__name__ == "import_menu"


def test_wrong_keyword_arguments_are_refused_before_the_call() -> None:
    recorder = Recorder()
    with pytest.raises(TypeError, match="restaurant_id, menu_import"):
        recorder.import_menu(META, restaurant_id="r1")
    with pytest.raises(TypeError):
        recorder.import_menu(META, restaurant_id="r1", menu_import={}, extra=1)
    assert recorder.calls == []


def test_names_that_are_not_operations_are_missing_attributes() -> None:
    recorder = Recorder()
    assert not hasattr(recorder, "find_accounts")
    with pytest.raises(AttributeError, match="delete_restaurant"):
        recorder.delete_restaurant  # noqa: B018
