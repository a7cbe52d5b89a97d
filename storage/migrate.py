"""Alembic, driven from code so that `pulse db upgrade` and the tests need no alembic.ini."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from storage.db import is_sqlite, make_engine, normalise_url

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser treats % as interpolation; escape it for passwords that contain one.
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` up to `revision`. Blocking: call it off the event loop."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def _sqlite_file_missing(url: str) -> bool:
    name = make_url(url).database if is_sqlite(url) else None
    return bool(name) and name != ":memory:" and not Path(str(name)).expanduser().exists()


async def is_current(url: str) -> bool:
    """Whether the database at `url` has every migration (False for a SQLite file not made yet)."""
    url = normalise_url(url)
    if _sqlite_file_missing(url):
        return False  # and connecting would create it
    head = set(ScriptDirectory.from_config(alembic_config(url)).get_heads())
    engine = make_engine(url, poolclass=NullPool)

    def current(conn: Connection) -> set[str]:
        return set(MigrationContext.configure(conn).get_current_heads())

    try:
        async with engine.connect() as conn:
            return await conn.run_sync(current) == head
    finally:
        await engine.dispose()
