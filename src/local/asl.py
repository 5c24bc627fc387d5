"""Just enough of the Amazon States Language to emulate a console redrive locally.

moto has no `redrive_execution`. A redrive re-runs the failed state with its original input
and the same execution ARN, then the states after it; this interprets the subset our
definition uses (Task with Parameters/ResultSelector/ResultPath, Choice with And/IsPresent/
StringEquals) over the same ASL file.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_MISSING = object()


class TaskFailedError(Exception):
    def __init__(self, state: str, error: str, cause: str) -> None:
        super().__init__(f"{state}: {error}: {cause}")
        self.state = state
        self.error = error
        self.cause = cause


def read_path(path: str, data: Any, context: dict[str, Any]) -> Any:
    if path.startswith("$$"):
        root: Any = context
        path = path[1:]
    else:
        root = data
    if path == "$":
        return root
    current = root
    for part in path[2:].split("."):
        if not isinstance(current, dict) or part not in current:
            return _MISSING
        current = current[part]
    return current


def resolve(template: Any, data: Any, context: dict[str, Any]) -> Any:
    if isinstance(template, dict):
        out = {}
        for key, value in template.items():
            if key.endswith(".$"):
                found = read_path(value, data, context)
                if found is _MISSING:
                    raise TaskFailedError("", "States.Runtime", f"path {value} not found")
                out[key[:-2]] = found
            else:
                out[key] = resolve(value, data, context)
        return out
    if isinstance(template, list):
        return [resolve(v, data, context) for v in template]
    return template


def write_result(data: Any, result_path: str | None, result: Any) -> Any:
    if result_path is None:
        return data
    if result_path == "$":
        return result
    out = copy.deepcopy(data)
    target = out
    parts = result_path[2:].split(".")
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = result
    return out


def _matches(rule: dict[str, Any], data: Any, context: dict[str, Any]) -> bool:
    if "And" in rule:
        return all(_matches(r, data, context) for r in rule["And"])
    if "Or" in rule:
        return any(_matches(r, data, context) for r in rule["Or"])
    if "Not" in rule:
        return not _matches(rule["Not"], data, context)
    value = read_path(rule["Variable"], data, context)
    if "IsPresent" in rule:
        return bool((value is not _MISSING) == rule["IsPresent"])
    if "StringEquals" in rule:
        return bool(value == rule["StringEquals"])
    raise NotImplementedError(f"choice rule {rule}")


Invoke = Callable[[str, dict[str, Any]], tuple[Any, str | None]]


@dataclass
class Interpreter:
    definition: dict[str, Any]
    invoke: Invoke

    def run_from(self, state_name: str, state_input: Any, context: dict[str, Any]) -> Any:
        """Run from `state_name` to the end; raise TaskFailedError where a Task fails."""
        data = state_input
        name: str | None = state_name
        while name is not None:
            state = self.definition["States"][name]
            kind = state["Type"]
            if kind == "Task":
                params = resolve(state.get("Parameters", {}), data, context)
                result, error_type = self.invoke(params["FunctionName"], params.get("Payload", {}))
                if error_type is not None:
                    raise TaskFailedError(name, error_type, str(result.get("errorMessage")))
                selected = resolve(
                    state.get("ResultSelector", {"Payload.$": "$"}), {"Payload": result}, context
                )
                data = write_result(data, state.get("ResultPath", "$"), selected)
                name = None if state.get("End") else state["Next"]
            elif kind == "Choice":
                name = next(
                    (c["Next"] for c in state["Choices"] if _matches(c, data, context)),
                    state.get("Default"),
                )
                if name is None:
                    raise TaskFailedError(state_name, "States.NoChoiceMatched", "no choice matched")
            elif kind in ("Succeed", "Pass"):
                name = None if kind == "Succeed" or state.get("End") else state["Next"]
            elif kind == "Fail":
                raise TaskFailedError(
                    name, state.get("Error", "States.Fail"), state.get("Cause", "")
                )
            else:
                raise NotImplementedError(f"state type {kind}")
        return data
