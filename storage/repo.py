"""Queries that read and write single rows: surveys, rounds, deliveries, responses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Delivery, DigestPost, Response, Round, Survey


async def get_survey(session: AsyncSession, survey_id: int) -> Survey | None:
    return await session.get(Survey, survey_id)


async def list_surveys(session: AsyncSession, *, include_paused: bool = True) -> list[Survey]:
    stmt = select(Survey).order_by(Survey.id)
    if not include_paused:
        stmt = stmt.where(Survey.paused.is_(False))
    return list((await session.scalars(stmt)).all())


async def rounds_of(session: AsyncSession, survey_id: int) -> list[Round]:
    stmt = select(Round).where(Round.survey_id == survey_id).order_by(Round.seq)
    return list((await session.scalars(stmt)).all())


async def latest_round(session: AsyncSession, survey_id: int) -> Round | None:
    stmt = select(Round).where(Round.survey_id == survey_id).order_by(Round.seq.desc()).limit(1)
    return (await session.scalars(stmt)).first()


async def insert_round(session: AsyncSession, round_: Round) -> bool:
    """Insert a round; False if its slot is already taken (the constraint decides, not luck)."""
    try:
        async with session.begin_nested():
            session.add(round_)
            await session.flush()
    except IntegrityError:
        return False
    return True


async def next_round_seq(session: AsyncSession, survey_id: int) -> int:
    current = await session.scalar(select(func.max(Round.seq)).where(Round.survey_id == survey_id))
    return (current or 0) + 1


async def add_deliveries(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await session.execute(_insert(session, Delivery).on_conflict_do_nothing(), list(rows))


def _insert(session: AsyncSession, table: Any) -> Any:
    dialect = session.bind.dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


async def upsert_response(session: AsyncSession, values: dict[str, Any]) -> None:
    """Store an answer, or replace the same person's earlier answer to the same item and round."""
    stmt = _insert(session, Response).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["round_id", "item_id", "facet", "respondent_key"],
        set_={c: stmt.excluded[c] for c in ("option", "score", "valence", "day", "segment")},
    )
    await session.execute(stmt)


async def response_option(session: AsyncSession, round_id: int, item_id: str, facet: str, key: str) -> str | None:
    stmt = select(Response.option).where(
        Response.round_id == round_id,
        Response.item_id == item_id,
        Response.facet == facet,
        Response.respondent_key == key,
    )
    return (await session.scalars(stmt)).first()


async def claim_digest_slot(session: AsyncSession, survey_id: int, slot: dt.datetime) -> bool:
    try:
        async with session.begin_nested():
            session.add(DigestPost(survey_id=survey_id, slot=slot))
            await session.flush()
    except IntegrityError:
        return False
    return True


async def mark_digest_posted(session: AsyncSession, survey_id: int, slot: dt.datetime, now: dt.datetime) -> None:
    await session.execute(
        update(DigestPost)
        .where(DigestPost.survey_id == survey_id, DigestPost.slot == slot)
        .values(status="posted", posted_at=now)
    )
