"""The one module that owns the database engine and the session factory."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, exc, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

DEFAULT_URL = "sqlite+aiosqlite:///pulse.db"


def normalise_url(url: str) -> str:
    """Accept the URLs people paste (postgres://, sqlite:///) and pick the async driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgresql+psycopg2", "postgresql+psycopg"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif parsed.drivername == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    return parsed.render_as_string(hide_password=False)


SUPPORTED = ("sqlite", "postgresql")
EXAMPLES = "sqlite:///pulse.db or postgresql://user:password@host:5432/pulse"


def url_problem(url: str) -> str | None:
    """Why `url` cannot be Pulse's database, in words for the person who set it; None if it can be."""
    try:
        parsed = make_url(normalise_url(url))
    except (exc.ArgumentError, ValueError):
        return f"it is not a database URL; use one like {EXAMPLES}"
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED:
        return f"Pulse runs on SQLite or PostgreSQL, not {backend}; use a URL like {EXAMPLES}"
    if backend == "sqlite" and parsed.database and parsed.database != ":memory:":
        folder = Path(parsed.database).expanduser().parent
        if not folder.is_dir():
            return f"the folder {folder} does not exist; create it or put the database file elsewhere"
    return None


def shown_url(url: str) -> str:
    """The URL as it may be printed or logged: without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (exc.ArgumentError, ValueError):
        return url


async def unreachable(url: str) -> str | None:
    """Why the PostgreSQL server at `url` cannot be used now (down, wrong password), or None.

    SQLite is not tried: opening a file that is not there would create it, and url_problem has
    already checked its folder.
    """
    if is_sqlite(normalise_url(url)):
        return None
    engine = make_engine(url, poolclass=NullPool, connect_args={"timeout": 10})
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except (OSError, exc.DBAPIError) as error:
        cause = error.orig if isinstance(error, exc.DBAPIError) else error
        return str(cause).splitlines()[0] if str(cause) else type(cause).__name__
    except Exception as error:  # the drivers' own errors (asyncpg's wrong password, unknown database)
        return str(error).splitlines()[0] or type(error).__name__
    finally:
        await engine.dispose()
    return None


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(url: str = DEFAULT_URL, **kwargs: Any) -> AsyncEngine:
    url = normalise_url(url)
    if is_sqlite(url):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # WAL lets the web process read while the clock process writes.
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            # Deleted rows are overwritten with zeros, so a sealed round's ballot box leaves no bytes behind.
            cur.execute("PRAGMA secure_delete=ON")
            cur.close()

        return engine
    # pre_ping lets the pool recover by itself after the database restarts.
    kwargs.setdefault("pool_pre_ping", True)
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
    return create_async_engine(url, **kwargs)


class Database:
    """The engine plus a session factory; one per process."""

    def __init__(self, url: str = DEFAULT_URL, **engine_kwargs: Any) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url, **engine_kwargs)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.url)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction: committed on success, rolled back on error."""
        async with self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[AsyncSession]:
        """A session for a transaction that reads what it is about to write (the ballot box).

        On SQLite it takes the write lock first (BEGIN IMMEDIATE), so what it reads cannot change
        before it writes; PostgreSQL callers lock the rows they rely on (storage/ballots.py).
        """
        async with self.sessions() as session, session.begin():
            if self.is_sqlite:
                await session.execute(text("BEGIN IMMEDIATE"))
            yield session

    async def forget_deleted(self) -> bool:
        """Leave no copy of deleted ballot-box rows in the database's files; False if it must wait.

        SQLite (with secure_delete on, so deleted cells are zeroed) checkpoints its write-ahead
        log into the main file and truncates it, which it can only do with no reader mid-way.
        PostgreSQL rewrites the tables that held per-person rows (VACUUM FULL, so no dead tuple
        keeps them) and, where the role may, switches and checkpoints the WAL so that the segments
        that held them can be removed (with `wal_recycle = off` they are unlinked, not reused).
        """
        async with self.engine.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            if self.is_sqlite:
                # Busy at once rather than after the usual 30 s wait: the clock tries again next tick.
                await auto.execute(text("PRAGMA busy_timeout=0"))
                try:
                    busy, _, _ = (await auto.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))).one()
                finally:
                    await auto.execute(text("PRAGMA busy_timeout=30000"))
                return not busy
            # VACUUM FULL copies a deleted row that an older snapshot could still see (an open
            # transaction, or an autovacuum worker's ANALYZE): wait for those, before and after.
            marker = int((await auto.execute(text("SELECT pg_current_xact_id()::text::bigint"))).scalar_one())
            if await self._older_snapshots(auto, marker):
                return False
            await auto.execute(text("VACUUM FULL held_answers, held_comments, round_keys, deliveries, sent_reminders"))
            if await self._older_snapshots(auto, marker):
                return False
            # A role that may not (not a superuser, no pg_checkpoint): docs/anonymity.md says what the WAL keeps.
            with contextlib.suppress(Exception):
                for _ in range(2):
                    await auto.execute(text("SELECT pg_switch_wal()"))
                    await auto.execute(text("CHECKPOINT"))
        return True

    @staticmethod
    async def _older_snapshots(conn: AsyncConnection, marker: int) -> bool:
        """Whether another session of this database holds a snapshot or transaction from before
        the transaction id `marker` (PostgreSQL), which could still see rows deleted before it."""
        older = await conn.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND ("
                "(backend_xmin IS NOT NULL AND age(backend_xmin) > age(CAST(:m AS xid))) OR "
                "(backend_xid IS NOT NULL AND age(backend_xid) > age(CAST(:m AS xid))))"
            ),
            {"m": marker % 2**32},
        )
        return bool(older)

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def dispose(self) -> None:
        await self.engine.dispose()
