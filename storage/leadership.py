"""The one lock that lets exactly one clock schedule, however many are started.

On PostgreSQL it is a session-level advisory lock (`pg_try_advisory_lock`), taken on a connection
of its own held for the process's life, in autocommit so it never keeps a transaction (or a
snapshot) open. The server releases it the moment that connection ends, so a clock that dies,
however it dies, hands over to the next one within a poll. On SQLite (one machine by nature) the
same is an exclusive `flock` on a file beside the database, which the operating system releases
when the process ends. An in-memory database has one process by definition.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import Database

# Which advisory lock the clock holds: a constant of the product ("PULSE" in ASCII).
CLOCK_LOCK = 0x50554C5345


class ClockLock:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._conn: AsyncConnection | None = None
        self._fd: int | None = None

    def _lock_file(self) -> Path | None:
        database = make_url(self.db.url).database
        if not database or database == ":memory:":
            return None
        return Path(f"{database}.clock-lock")

    async def try_take(self) -> bool:
        """Take the lock if nobody holds it; True when this process holds it now."""
        if self.db.is_sqlite:
            return self._try_flock()
        if self._conn is not None:
            return await self.held()
        conn = await self.db.engine.connect()
        try:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            got = bool(await conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": CLOCK_LOCK}))
        except Exception:
            await conn.close()
            raise
        if not got:
            await conn.close()
            return False
        self._conn = conn
        return True

    def _try_flock(self) -> bool:
        if self._fd is not None:
            return True
        path = self._lock_file()
        if path is None:
            return True
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    async def held(self) -> bool:
        """Whether this process still holds it: on PostgreSQL, whether its connection is alive."""
        if self.db.is_sqlite:
            return self._fd is not None or self._lock_file() is None
        if self._conn is None:
            return False
        try:
            await self._conn.scalar(text("SELECT 1"))
        except Exception:
            await self._drop()
            return False
        return True

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            # Invalidated, not returned to the pool: a pooled connection would keep the lock.
            with contextlib.suppress(Exception):
                await conn.invalidate()
            with contextlib.suppress(Exception):
                await conn.close()

    async def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
        if self._conn is not None:
            await self._drop()  # closing the connection releases the lock
