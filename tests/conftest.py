from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from storage.db import Database
from storage.migrate import upgrade
from surveys.banks import BankRegistry
from tests.db import POSTGRES_ENV, PostgresTemplate, SqliteTemplate, backends

# CI replays the same examples every run (a red run blocks a landing, so it must be reproducible);
# developers' runs keep exploring new ones.
hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplate:
    return SqliteTemplate(tmp_path_factory.mktemp("db"))


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[PostgresTemplate | None]:
    server = os.environ.get(POSTGRES_ENV)
    if not server:
        yield None
        return
    template = PostgresTemplate(server)
    asyncio.run(template.create())
    upgrade(template.url)
    yield template
    asyncio.run(template.drop())


@pytest.fixture(params=backends())
async def db_url(
    request: pytest.FixtureRequest, sqlite_template: SqliteTemplate, postgres_template: PostgresTemplate | None
) -> str:
    """A freshly migrated, empty database: SQLite, and PostgreSQL when one is available."""
    if request.param == "postgres":
        assert postgres_template is not None
        await postgres_template.reset()
        return postgres_template.url
    return sqlite_template.fresh_url()


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url)
    yield database
    await database.dispose()


@pytest.fixture(scope="session")
def banks() -> BankRegistry:
    return BankRegistry.load(None)


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent
