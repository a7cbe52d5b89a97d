"""Queries on free-text comments: store one, count them per round, read a batch's texts."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Comment


async def upsert_comment(session: AsyncSession, *, round_id: int, key: str, segment: str, text: str) -> bool:
    """Store a comment, or replace the same person's earlier one for the round; True if one was replaced."""
    earlier = await session.scalar(
        select(func.count()).select_from(Comment).where(Comment.round_id == round_id, Comment.respondent_key == key)
    )
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Comment)
    stmt = insert.values(round_id=round_id, respondent_key=key, segment=segment, text=text).on_conflict_do_update(
        index_elements=["round_id", "respondent_key"],
        set_={"segment": insert.excluded.segment, "text": insert.excluded.text},
    )
    await session.execute(stmt)
    return bool(earlier)


async def comment_counts(session: AsyncSession, round_ids: Sequence[int]) -> dict[int, int]:
    """Comments per round (GROUP BY), for the rounds given."""
    if not round_ids:
        return {}
    stmt = (
        select(Comment.round_id, func.count()).where(Comment.round_id.in_(list(round_ids))).group_by(Comment.round_id)
    )
    return {int(r): int(n) for r, n in (await session.execute(stmt)).all()}


async def comment_texts(session: AsyncSession, round_ids: Sequence[int]) -> list[str]:
    """The texts of the rounds' comments, and nothing else (no key, no segment), in no meaningful order."""
    if not round_ids:
        return []
    stmt = select(Comment.text).where(Comment.round_id.in_(list(round_ids)))
    return list((await session.scalars(stmt)).all())
