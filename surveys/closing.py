"""Closing rounds: sealing their ballot boxes, forgetting where their messages went, and scrubbing.

A round closes `round_hours` after it opened (`closes_at`, set when it opens). Closing is one
transaction: it stamps `closed_at`, keeps how many messages went out on the round, deletes its
delivery rows (for an audience answered by DM each row names a person), and seals the ballot
box (storage/ballots.py): the held answers become counts, the comments bare texts, and the
round's key is erased, so from then on nobody, whoever holds the deployment secret, can tell
whose answers were whose.

Deleted rows can outlive a transaction in the database's files (SQLite's write-ahead log,
PostgreSQL's dead tuples and WAL segments), so each sealed round is marked `scrub_pending`
until `Database.forget_deleted` has rewritten them away. A scrub that cannot run yet (SQLite
busy with a reader) is tried again on the clock's next tick.

A round whose key is gone while it is still open (PostgreSQL keeps keys in an unlogged table,
emptied by a crash) can take no more answers; it is closed early with what it holds.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import ballots
from storage.db import Database
from storage.models import Delivery, Round
from surveys.platform import ChatPlatform
from surveys.withdrawal import withdraw_reminders

log = logging.getLogger(__name__)


async def close_round(session: AsyncSession, round_id: int, *, now: dt.datetime) -> bool:
    """Close and seal one round now, in the caller's `Database.writing()` transaction; False if
    it was already closed (by another process, or earlier).

    The conditional UPDATE is the claim: under a double fire exactly one caller wins, and only
    the winner counts, purges and seals.
    """
    claimed = await session.scalar(
        update(Round)
        .where(Round.id == round_id, Round.closed_at.is_(None))
        .values(closed_at=now, scrub_pending=True)
        .returning(Round.id)
        .execution_options(synchronize_session=False)
    )
    if claimed is None:
        return False
    sent = await session.scalar(
        select(func.count()).select_from(Delivery).where(Delivery.round_id == round_id, Delivery.status == "sent")
    )
    await session.execute(
        update(Round)
        .where(Round.id == round_id)
        .values(sent_count=int(sent or 0))
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        delete(Delivery).where(Delivery.round_id == round_id).execution_options(synchronize_session=False)
    )
    await ballots.seal(session, round_id)
    return True


async def close_due_rounds(db: Database, *, now: dt.datetime, platform: ChatPlatform | None = None) -> list[int]:
    """Close every round whose window has passed, or whose key was lost; take back the reminders
    closed rounds left on `platform` (surveys/withdrawal.py); then scrub.

    Returns the ids of the rounds this call closed.
    """
    async with db.session() as session:
        due = list(
            (
                await session.scalars(
                    select(Round.id).where(Round.closed_at.is_(None), Round.closes_at <= now).order_by(Round.id)
                )
            ).all()
        )
        still_open = list((await session.scalars(select(Round.id).where(Round.closed_at.is_(None)))).all())
        keyless = await ballots.keyless_open_rounds(session, [r for r in still_open if r not in set(due)])
    if keyless:
        log.warning("%s open round(s) lost their keys (a database crash): closed early", len(keyless))
    closed: list[int] = []
    for round_id in sorted(set(due) | set(keyless)):
        # One transaction per round: a failure on one leaves the others closed.
        async with db.writing() as session:
            if await close_round(session, round_id, now=now):
                closed.append(round_id)
    if closed:
        log.info("closed and sealed %s round(s)", len(closed))
    if platform is not None:
        try:
            await withdraw_reminders(db, platform, now=now)
        except Exception as exc:
            # The scrub of what closing deleted must not wait for the platform. The type alone:
            # an error's text or traceback could carry where a reminder went (a person's DM).
            log.error("taking reminders back failed (%s); the next tick tries again", type(exc).__name__)
    await scrub(db)
    return closed


async def awaiting_scrub(db: Database) -> int:
    """How many sealed rounds still wait for their scrub (the operators' counters report it)."""
    async with db.session() as session:
        return int(
            await session.scalar(select(func.count()).select_from(Round).where(Round.scrub_pending.is_(True))) or 0
        )


async def scrub(db: Database) -> int:
    """Rewrite away what sealed rounds deleted; returns how many rounds were scrubbed."""
    async with db.session() as session:
        pending = list((await session.scalars(select(Round.id).where(Round.scrub_pending.is_(True)))).all())
    if not pending:
        return 0
    if not await db.forget_deleted():
        log.warning("scrub postponed: the database was busy; the next tick tries again")
        return 0
    async with db.session() as session:
        await session.execute(
            update(Round)
            .where(Round.id.in_(pending))
            .values(scrub_pending=False)
            .execution_options(synchronize_session=False)
        )
    return len(pending)
