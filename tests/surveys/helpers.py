"""Surveys and rounds written straight to a test database, for domain tests that need no chat platform."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from storage import ballots
from storage.db import Database
from storage.models import HeldAnswer, Round, SealedCount, Survey
from surveys.banks import BankRegistry
from surveys.config import SurveyConfig
from surveys.keys import new_nonce
from surveys.rounds import choose_items

NOW = dt.datetime(2026, 9, 7, 8, 0, tzinfo=dt.UTC)
SCHOOL = "C0SCHOOLA"


async def new_round(
    db: Database,
    banks: BankRegistry,
    bank_ids: list[str],
    *,
    items: int = 1,
    survey_id: int | None = None,
    now: dt.datetime = NOW,
    hours: int = 72,
) -> Round:
    """Open a round (of a new survey, or the next of `survey_id`) with items chosen by rotation."""
    async with db.session() as session:
        if survey_id is None:
            config = SurveyConfig(
                bank_ids=bank_ids, audience=[SCHOOL], digest_channel="C0LEADERS", items_per_round=items
            )
            survey = config.to_model()
            session.add(survey)
            await session.flush()
        else:
            found = await session.get(Survey, survey_id)
            assert found is not None
            survey = found
        earlier = list(
            (await session.scalars(select(Round).where(Round.survey_id == survey.id).order_by(Round.seq))).all()
        )
        round_ = Round(
            survey_id=survey.id,
            seq=len(earlier) + 1,
            slot=now + dt.timedelta(seconds=len(earlier)),
            opened_at=now,
            closes_at=now + dt.timedelta(hours=hours),
            items=[r.as_json() for r in choose_items(survey, banks, earlier)],
            audience_size=20,
        )
        session.add(round_)
        await session.flush()
        await ballots.add_round_key(session, round_.id, new_nonce())
    return round_


async def responses(db: Database) -> list[HeldAnswer]:
    """Every held answer of the open rounds."""
    async with db.session() as session:
        rows = (await session.scalars(select(HeldAnswer))).all()
    return sorted(rows, key=lambda r: (r.round_id, r.item_id, r.facet, r.option, r.respondent_key))


async def seal_round(db: Database, round_id: int, *, now: dt.datetime = NOW) -> None:
    """Close the round as the clock does: in one transaction, sealed into counts."""
    from surveys.closing import close_round

    async with db.writing() as session:
        assert await close_round(session, round_id, now=now)


async def sealed(db: Database) -> list[SealedCount]:
    """Every sealed count of the closed rounds."""
    async with db.session() as session:
        rows = (await session.scalars(select(SealedCount))).all()
    return sorted(rows, key=lambda r: (r.round_id, r.item_id, r.facet, r.option, r.segment))
