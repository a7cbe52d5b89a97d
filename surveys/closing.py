"""Closing rounds whose window has passed, and forgetting where their messages went.

A round closes `round_hours` after it opened (`closes_at`, set when it opens). Closing stamps
`closed_at`, after which answers are refused (surveys/answers.py), keeps how many messages went
out on the round, and deletes its delivery rows: for an audience answered by DM each row names a
person, and once the round is closed nothing needs them.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import Delivery, Round

log = logging.getLogger(__name__)


async def close_round(session: AsyncSession, round_id: int, *, now: dt.datetime) -> bool:
    """Close one round now; False if it was already closed (by another process, or earlier).

    The conditional UPDATE is the claim: under a double fire exactly one caller wins, and only
    the winner counts and purges.
    """
    claimed = await session.scalar(
        update(Round)
        .where(Round.id == round_id, Round.closed_at.is_(None))
        .values(closed_at=now)
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
    return True


async def close_due_rounds(db: Database, *, now: dt.datetime) -> list[int]:
    """Close every round whose window has passed; returns the ids of the rounds this call closed."""
    async with db.session() as session:
        due = list(
            (
                await session.scalars(
                    select(Round.id).where(Round.closed_at.is_(None), Round.closes_at <= now).order_by(Round.id)
                )
            ).all()
        )
    closed: list[int] = []
    for round_id in due:
        # One transaction per round: a failure on one leaves the others closed.
        async with db.session() as session:
            if await close_round(session, round_id, now=now):
                closed.append(round_id)
    if closed:
        log.info("closed %s round(s); their delivery rows were purged", len(closed))
    return closed
