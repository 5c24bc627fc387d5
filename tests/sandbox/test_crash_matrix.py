"""The whole crash-point matrix again, behind the platform sandbox's code instead of the
in-memory simulator: every sub-step x fail, transient, crash_before, crash_after x resume and
redrive, with the ledger read from PlatformSandboxTable (figures: test-output/
matrix-sandbox.json). The cells and their checks are tests/resilience/test_crash_matrix.py's,
collected here again; `runtime` is this package's."""

from __future__ import annotations

import pytest

from tests.resilience.test_crash_matrix import (  # noqa: F401 - re-collected with our runtime
    matrix,
    test_cell,
    test_matrix_figures,
    test_the_reference_is_what_an_uninterrupted_run_produces,
    test_transient_errors_within_the_retries_need_no_recovery,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1500)]
