"""The crash-point matrix again, behind the platform sandbox's code instead of the in-memory
simulator, with the ledger read from PlatformSandboxTable (figures: test-output/
matrix-sandbox.json). The cells and their checks are tests/resilience/test_crash_matrix.py's;
`runtime` is this package's.

`make test` runs a bounded subset here (the full matrix already runs behind the simulator, and
what the sandbox adds is its stored answers and conditional effects): every sub-step with a
crash after its effect, and every fault and way back for the three sub-steps that create a
unique object (the account, the restaurant, the onboarding user). `CRASH_MATRIX=full` (what
`make bench` sets) runs all 96 cells.
"""

from __future__ import annotations

import os

import pytest

from domain.catalogue import SUB_STEPS
from tests.resilience.test_crash_matrix import (  # noqa: F401 - re-collected with our runtime
    CELLS,
    Cell,
    Matrix,
    check_cell,
    matrix,
    test_matrix_figures,
    test_the_reference_is_what_an_uninterrupted_run_produces,
    test_transient_errors_within_the_retries_need_no_recovery,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1500)]


def _bounded(cell: Cell) -> bool:
    unique_object = not SUB_STEPS[cell.sub_step].rerunnable
    return unique_object or (cell.fault == "crash_after" and cell.way == "resume")


SANDBOX_CELLS = CELLS if os.environ.get("CRASH_MATRIX") == "full" else list(filter(_bounded, CELLS))


@pytest.fixture(scope="module")
def cells() -> list[Cell]:
    return SANDBOX_CELLS


@pytest.mark.parametrize("cell", SANDBOX_CELLS, ids=str)
def test_cell(matrix: Matrix, cell: Cell) -> None:  # noqa: F811 - the fixture
    check_cell(matrix, cell)
