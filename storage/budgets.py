"""Rate budgets kept in the database, so several sending processes share one limit.

Each budget is a row holding its theoretical arrival time (GCRA: the same schedule
surveys/pacing.py keeps in memory). Reserving a slot is one short transaction: lock the row
(`SELECT … FOR UPDATE` on PostgreSQL; SQLite's writer lock), move the schedule on by one call,
commit; the caller then waits until its slot. Whoever reserves, on whichever machine, the calls of
all of them together keep to the rate. Times are the machines' wall clocks (kept in step by NTP).
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from storage.db import Database
from storage.models import SendBudget


async def reserve(db: Database, key: str, *, per_second: float, burst: int, now: float) -> float:
    """Reserve the budget's next slot; returns when (epoch seconds) the call may go."""
    interval = 1.0 / per_second
    tolerance = (burst - 1) * interval
    insert = sqlite_insert if db.is_sqlite else pg_insert
    async with db.writing() as session:
        await session.execute(insert(SendBudget).values(key=key, tat=0.0).on_conflict_do_nothing())
        tat = float(await session.scalar(select(SendBudget.tat).where(SendBudget.key == key).with_for_update()) or 0.0)
        at = max(now, tat - tolerance)
        await session.execute(
            update(SendBudget)
            .where(SendBudget.key == key)
            .values(tat=max(tat, at) + interval)
            .execution_options(synchronize_session=False)
        )
    return at
