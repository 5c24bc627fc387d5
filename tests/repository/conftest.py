"""The repository suite runs every test on two engines: moto and DynamoDB Local.

`table` is parametrised over ENGINES: each test gets a fresh table with a unique name, created
from template.yaml's JobsTable definition (local.template, the one source of truth). For
DynamoDB Local, one process serves the whole session (`dynamodb_local_endpoint`, started on first
use and stopped at the end, failures included); the suite reaches it through the endpoint URL
setting (DYNAMODB_ENDPOINT_URL → Settings.dynamodb_endpoint_url), as a deployed handler would.
One boto3 resource per engine serves the session (clients are thread-safe, and creating one
costs more than most tests); moto gets a fresh `mock_aws()` per test.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from moto import mock_aws

from domain.summary import summarize
from handlers.settings import Settings
from local import dynamodb_local
from local.template import Template
from state.repository import JobRepository
from tests.repository.support import Engine

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import DynamoDBServiceResource, Table

ENGINES = ["moto", "dynamodb_local"]
TABLE_LOGICAL_ID = "JobsTable"


@pytest.fixture(scope="session")
def dynamodb_local_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """DynamoDB Local, in memory on a free 127.0.0.1 port, for the whole session."""
    try:
        server = dynamodb_local.start(tmp_path_factory.mktemp("dynamodb-local"))
    except dynamodb_local.DynamoDBLocalError as error:
        pytest.fail(f"DynamoDB Local is required by tests/repository: {error}", pytrace=False)
    try:
        yield server.endpoint_url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def engines() -> dict[str, tuple[Engine, DynamoDBServiceResource]]:
    """Engines set up so far this session, with their shared resource."""
    return {}


def _engine(request: pytest.FixtureRequest, name: str) -> tuple[Engine, DynamoDBServiceResource]:
    cache: dict[str, tuple[Engine, DynamoDBServiceResource]] = request.getfixturevalue("engines")
    if name not in cache:
        if name == "moto":
            engine = Engine("moto", None)
        else:
            endpoint = request.getfixturevalue("dynamodb_local_endpoint")
            with pytest.MonkeyPatch.context() as env:
                # The setting a deployed handler reads (handlers.wiring builds its resource so).
                env.setenv("DYNAMODB_ENDPOINT_URL", endpoint)
                settings = Settings(table_name="-", bucket_name="-")
            engine = Engine("dynamodb_local", settings.dynamodb_endpoint_url)
        cache[name] = (engine, engine.resource())
    return cache[name]


@pytest.fixture(scope="session")
def table_definition() -> dict[str, Any]:
    return Template.load().table_definitions()[TABLE_LOGICAL_ID]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out (deselect, never skip) the cases a module names as unfit for moto."""
    unfit = []
    for item in items:
        names = getattr(getattr(item, "module", None), "NOT_ON_MOTO", frozenset())
        callspec = getattr(item, "callspec", None)
        if (
            names
            and getattr(item, "originalname", "") in names
            and callspec is not None
            and callspec.params.get("engine") == "moto"
        ):
            unfit.append(item)
    if unfit:
        config.hook.pytest_deselected(items=unfit)
        items[:] = [item for item in items if item not in unfit]


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> Engine:
    """The engine of this test: moto or DynamoDB Local."""
    return _engine(request, request.param)[0]


@pytest.fixture
def table(
    request: pytest.FixtureRequest, engine: Engine, table_definition: dict[str, Any]
) -> Iterator[Table]:
    """A fresh table on this test's engine, from template.yaml, deleted afterwards."""
    _, resource = _engine(request, engine.name)
    name = f"jobs-{uuid.uuid4().hex[:12]}"
    if engine.name == "moto":
        with mock_aws():
            yield _create(resource, name, table_definition)
        return
    created = _create(resource, name, table_definition)
    try:
        yield created
    finally:
        created.delete()


def _create(resource: DynamoDBServiceResource, name: str, definition: dict[str, Any]) -> Table:
    resource.meta.client.create_table(TableName=name, **definition)
    table = resource.Table(name)
    # Both engines create a table ACTIVE at once (DynamoDB Local without -delayTransientStatuses).
    assert table.table_status == "ACTIVE", table.table_status
    return table


@pytest.fixture
def repo(table: Table) -> JobRepository:
    return JobRepository(table, summarize=summarize)
