"""Phase handlers with one sub-step's logic replaced: test doubles for the worker processes.

Each function of the local runtime runs in processes of its own, so a test cannot replace a
sub-step's logic from its own process: it runs the phase's function with one of these
handlers instead (`ProcessLambdas.override`). Each handler swaps the logic in the worker's
process, then runs the real phase handler.
"""

from __future__ import annotations

from typing import Any

from clients.platform import PermanentPlatformError
from domain.catalogue import SUB_STEP_LOGIC, phase_of
from domain.substeps.base import SubStepInput
from handlers import phase
from state.models import MAX_OUTPUT_BYTES

_SERVICES_CONFIG = SUB_STEP_LOGIC["servicesConfig"]


def _oversized_services(inp: SubStepInput) -> dict[str, Any]:
    return _SERVICES_CONFIG(inp) | {"opening_hours_dump": "x" * MAX_OUTPUT_BYTES}


def _verbose_rejection(inp: SubStepInput) -> dict[str, Any]:
    raise PermanentPlatformError("validation failed: " + "y" * 50_000)


def oversized_services_config(event: dict[str, Any], context: Any) -> Any:
    """servicesConfig returns an output over MAX_OUTPUT_BYTES."""
    SUB_STEP_LOGIC["servicesConfig"] = _oversized_services
    return getattr(phase, phase_of("servicesConfig"))(event, context)


def verbose_registration_rejection(event: dict[str, Any], context: Any) -> Any:
    """restaurantRegistration fails with a 50,000-character message."""
    SUB_STEP_LOGIC["restaurantRegistration"] = _verbose_rejection
    return getattr(phase, phase_of("restaurantRegistration"))(event, context)


# The function each double stands in for.
FUNCTIONS = {
    "oversized_services_config": f"Phase{phase_of('servicesConfig')[-1]}Function",
    "verbose_registration_rejection": f"Phase{phase_of('restaurantRegistration')[-1]}Function",
}
