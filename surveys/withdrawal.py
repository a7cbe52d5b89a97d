"""Taking reminders back once their round has closed.

A reminder left in a Slack DM or a Teams 1:1 chat tells whoever reads that chat (the person, a
workspace owner's export, anyone holding the bot's token) that its reader had not answered when
it went out. Once the round is sealed that is the last thing tying the round to people, so the
clock deletes each such message on the platform and then its `sent_reminders` row, and marks the
round for a scrub when its last row is gone, so the rows leave no trace in the database's files
either (surveys/closing.py).

A message already gone counts as withdrawn. While the platform refuses for a passing reason (a
rate limit, an outage), the next tick tries again; after `GIVE_UP` past the close the row is
dropped all the same, so the database forgets even what it could not get the platform to forget.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import delete, exists, select, update

from storage.db import Database
from storage.models import Round, SentReminder
from surveys.platform import ChatPlatform, PlatformError

log = logging.getLogger(__name__)

GIVE_UP = dt.timedelta(days=1)
# Per clock tick: a round's reminders are deleted over several ticks rather than holding the clock.
BATCH = 100


async def withdraw_reminders(db: Database, platform: ChatPlatform, *, now: dt.datetime) -> int:
    """Delete up to BATCH reminders of closed rounds; returns how many were taken back."""
    async with db.session() as session:
        rows = (
            await session.execute(
                select(SentReminder.id, SentReminder.ref, Round.id, Round.survey_id, Round.closed_at)
                .join(Round, Round.id == SentReminder.round_id)
                .where(Round.closed_at.is_not(None))
                .order_by(SentReminder.id)
                .limit(BATCH)
            )
        ).all()
    withdrawn = 0
    done: list[int] = []
    failed = 0
    for row_id, ref, _round_id, survey_id, closed_at in rows:
        try:
            await platform.withdraw(survey_id, ref)
        except PlatformError as exc:
            if not exc.transient or closed_at is None or now - closed_at >= GIVE_UP:
                failed += 1
                done.append(row_id)
            continue
        withdrawn += 1
        done.append(row_id)
    if done:
        await _forget(db, done, {r[2] for r in rows})
    if failed:
        log.warning("%s reminder(s) could not be deleted on the platform; forgotten here all the same", failed)
    return withdrawn


async def _forget(db: Database, row_ids: list[int], round_ids: set[int]) -> None:
    """Delete the rows; a round whose last reminder row went waits for a scrub."""
    async with db.session() as session:
        await session.execute(
            delete(SentReminder).where(SentReminder.id.in_(row_ids)).execution_options(synchronize_session=False)
        )
        left = exists().where(SentReminder.round_id == Round.id)
        await session.execute(
            update(Round)
            .where(Round.id.in_(round_ids), ~left)
            .values(scrub_pending=True)
            .execution_options(synchronize_session=False)
        )
