"""Test databases: migrated once per backend with the real Alembic migrations, reset per test."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from storage.db import Database, make_engine, normalise_url
from storage.migrate import upgrade

POSTGRES_ENV = "PULSE_TEST_POSTGRES_URL"


def backends() -> list[str]:
    """SQLite always; PostgreSQL too when a server was given (as .ci/run does)."""
    return ["sqlite", "postgres"] if os.environ.get(POSTGRES_ENV) else ["sqlite"]


class SqliteTemplate:
    """Migrate once into a template file; each test gets a fresh copy of it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.template = root / "template.db"
        upgrade(f"sqlite:///{self.template}")

    def fresh_url(self) -> str:
        path = self.root / f"{uuid.uuid4().hex}.db"
        shutil.copyfile(self.template, path)
        return f"sqlite+aiosqlite:///{path}"


class PostgresTemplate:
    """Migrate a scratch database once; each test starts from emptied tables."""

    def __init__(self, server_url: str) -> None:
        base = make_url(normalise_url(server_url))
        self.url = base.set(database=f"pulse_test_{os.getpid()}").render_as_string(hide_password=False)
        self.admin_url = base.set(database="postgres").render_as_string(hide_password=False)
        self._created = False

    async def create(self) -> None:
        admin = make_engine(self.admin_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        name = make_url(self.url).database
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        await admin.dispose()
        self._created = True

    async def drop(self) -> None:
        if not self._created:
            return
        admin = make_engine(self.admin_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(self.url).database}" WITH (FORCE)'))
        await admin.dispose()

    async def reset(self) -> None:
        engine = make_engine(self.url, poolclass=NullPool)
        async with engine.begin() as conn:
            names = (
                await conn.execute(
                    text(
                        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
                    )
                )
            ).scalars()
            tables = ", ".join(f'"{n}"' for n in names)
            if tables:
                await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        await engine.dispose()


def database(url: str) -> Database:
    return Database(url)
