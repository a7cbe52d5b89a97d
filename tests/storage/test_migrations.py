"""The migrations are the schema: one line of history, and exactly what the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.pool import NullPool

from storage.db import make_engine
from storage.migrate import alembic_config, downgrade, upgrade
from storage.models import Base

# slack_sdk's installation and OAuth state tables are defined by the library, not by our models.
LIBRARY_TABLES = {"slack_installations", "slack_bots", "slack_oauth_states"}


def test_history_is_one_line() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1
    revisions = list(script.walk_revisions())
    assert all(len(r._all_down_revisions) <= 1 for r in revisions)


async def test_migrated_schema_matches_the_models(db_url: str) -> None:
    engine = make_engine(db_url, poolclass=NullPool)

    def diff(connection):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        return [d for d in compare_metadata(context, Base.metadata) if not any(t in repr(d) for t in LIBRARY_TABLES)]

    async with engine.connect() as conn:
        differences = await conn.run_sync(diff)
    await engine.dispose()
    assert differences == []


def test_down_to_nothing_and_back_up(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path}/roundtrip.db"
    upgrade(url)
    downgrade(url, "base")
    upgrade(url)
