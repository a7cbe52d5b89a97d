"""A survey's rounds as a coordinator sees them, and ending one before its window does.

Closing early is the same close as the clock's at the window's end (`closing.close_round`): one
conditional UPDATE claims it, so whoever asks, however often and from however many processes,
the round is sealed exactly once and every later ask hears that it was already closed. Then the
files are scrubbed as after any close; the reminders it left behind go at the clock's next tick.

How many answered is shown by the same rules as everywhere: for an open round nothing below k
and coarse steps above, counted as of the start of the hour (surveys/anonymity.py); for a closed
round the people per item, when at least k.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum

from sqlalchemy import select

from storage.db import Database
from storage.models import Round, Survey
from surveys.anonymity import coarse, effective_k
from surveys.closing import close_round, scrub
from surveys.management import answers_per_item

# The most recent rounds listed; older ones are in the digest's history.
LIST_LIMIT = 20


@dataclass(frozen=True)
class RoundLine:
    id: int
    seq: int
    items: tuple[str, ...]
    opened_at: dt.datetime
    closes_at: dt.datetime
    closed_at: dt.datetime | None
    # "open", "closed", or "closing" (its window has ended; the clock seals it within a minute).
    state: str
    # People per item as it may be shown; None when fewer than k (or nothing counted yet).
    answered: int | None
    k: int


async def list_rounds(db: Database, survey_id: int, *, now: dt.datetime, limit: int = LIST_LIMIT) -> list[RoundLine]:
    """The survey's latest rounds, newest first."""
    async with db.session() as session:
        survey = await session.get(Survey, survey_id)
        rounds = (
            await session.scalars(
                select(Round).where(Round.survey_id == survey_id).order_by(Round.seq.desc()).limit(limit)
            )
        ).all()
        lines = []
        for r in rounds:
            k = max(effective_k(survey.k if survey is not None else 0), r.k or 0)
            per_item = await answers_per_item(session, r, now=now)
            if r.closed_at is None:
                shown = coarse(per_item or 0, k)
                state = "open" if now < r.closes_at else "closing"
            else:
                shown = int(per_item) if per_item is not None and per_item >= k else None
                state = "closed"
            lines.append(
                RoundLine(
                    id=r.id,
                    seq=r.seq,
                    items=tuple(str(ref["item"]) for ref in r.items),
                    opened_at=r.opened_at,
                    closes_at=r.closes_at,
                    closed_at=r.closed_at,
                    state=state,
                    answered=shown,
                    k=k,
                )
            )
    return lines


class Closed(Enum):
    NOW = "closed now"
    ALREADY = "already closed"
    NO_SUCH_ROUND = "no such round"
    NO_OPEN_ROUND = "no open round"


@dataclass(frozen=True)
class CloseResult:
    outcome: Closed
    round_id: int | None = None
    seq: int | None = None
    survey_id: int | None = None


async def close_now(db: Database, round_id: int, *, now: dt.datetime) -> CloseResult:
    """Seal one round now, however early; says whether this call closed it."""
    async with db.writing() as session:
        round_ = await session.get(Round, round_id)
        if round_ is None:
            return CloseResult(Closed.NO_SUCH_ROUND, round_id)
        found = CloseResult(Closed.NOW, round_.id, round_.seq, round_.survey_id)
        closed = await close_round(session, round_id, now=now)
    if not closed:
        return CloseResult(Closed.ALREADY, found.round_id, found.seq, found.survey_id)
    await scrub(db)
    return found


async def open_round_of(db: Database, survey_id: int) -> Round | None:
    """The survey's round still taking answers (the newest not yet sealed), if any."""
    async with db.session() as session:
        return await session.scalar(
            select(Round)
            .where(Round.survey_id == survey_id, Round.closed_at.is_(None))
            .order_by(Round.seq.desc())
            .limit(1)
        )


async def close_survey_round(db: Database, survey_id: int, *, now: dt.datetime) -> CloseResult:
    """Seal the survey's open round now; NO_OPEN_ROUND when it has none."""
    round_ = await open_round_of(db, survey_id)
    if round_ is None:
        return CloseResult(Closed.NO_OPEN_ROUND, survey_id=survey_id)
    return await close_now(db, round_.id, now=now)
