"""Roll anonymous answers up in SQL: counts per round, item, facet and segment."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Response


@dataclass(frozen=True)
class ItemCounts:
    round_id: int
    item_id: str
    facet: str
    segment: str
    n: int
    favourable: int
    neutral: int
    unfavourable: int
    score_sum: int


async def item_counts(session: AsyncSession, round_ids: Sequence[int]) -> list[ItemCounts]:
    """One row per (round, item, facet, segment), computed by the database."""
    if not round_ids:
        return []
    stmt = (
        select(
            Response.round_id,
            Response.item_id,
            Response.facet,
            Response.segment,
            func.count(),
            func.sum(case((Response.valence > 0, 1), else_=0)),
            func.sum(case((Response.valence == 0, 1), else_=0)),
            func.sum(case((Response.valence < 0, 1), else_=0)),
            func.sum(Response.score),
        )
        .where(Response.round_id.in_(list(round_ids)))
        .group_by(Response.round_id, Response.item_id, Response.facet, Response.segment)
    )
    return [
        ItemCounts(*(int(v) if isinstance(v, int | float) else v for v in row)) for row in await session.execute(stmt)
    ]
