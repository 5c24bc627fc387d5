import pytest

# support.py's helpers assert (unchanged_job_item): their failures are explained like a test's.
pytest.register_assert_rewrite("tests.repository.support")
