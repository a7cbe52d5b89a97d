"""Migration 0002: the survey cadence columns, and slack_sdk's installation and OAuth state tables
exactly as the library itself would create them (so its stores work on the product's database)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import create_engine, inspect

from storage.migrate import downgrade, upgrade


def library_tables() -> list[sa.Table]:
    metadata = sa.MetaData()
    return [
        SQLAlchemyInstallationStore.build_installations_table(metadata, "slack_installations"),
        SQLAlchemyInstallationStore.build_bots_table(metadata, "slack_bots"),
        SQLAlchemyOAuthStateStore.build_oauth_states_table(metadata, "slack_oauth_states"),
    ]


def columns(table: sa.Table, dialect: sa.Dialect) -> dict[str, tuple[str, bool]]:
    # The primary key is NOT NULL in the database whatever the library's Column says.
    return {
        c.name: (str(c.type.compile(dialect=dialect)), bool(c.nullable) and not c.primary_key) for c in table.columns
    }


def test_slack_tables_match_the_library_and_go_away_on_downgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url, "0002")
    engine = create_engine(url)
    try:
        found = inspect(engine)
        for table in library_tables():
            migrated = {c["name"]: (str(c["type"]), bool(c["nullable"])) for c in found.get_columns(table.name)}
            assert migrated == columns(table, engine.dialect), table.name
            indexes = {i["name"]: i["column_names"] for i in found.get_indexes(table.name)}
            assert indexes == {i.name: [c.name for c in i.columns] for i in table.indexes}, table.name
        survey_columns = {c["name"] for c in found.get_columns("surveys")}
        assert {"cadence", "cadence_anchor"} <= survey_columns
    finally:
        engine.dispose()

    downgrade(url, "0001")
    engine = create_engine(url)
    try:
        found = inspect(engine)
        assert not {"slack_installations", "slack_bots", "slack_oauth_states"} & set(found.get_table_names())
        assert "cadence" not in {c["name"] for c in found.get_columns("surveys")}
    finally:
        engine.dispose()
    upgrade(url)
