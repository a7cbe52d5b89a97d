"""Roll anonymous answers up in SQL.

`answer_counts` is the digest's one scan: a GROUP BY at the finest grain any figure needs
(round, item, facet, segment, score, valence). Every coarser figure (per item, aspect, strand,
school, round, cycle or rolling window of rounds) is a sum of these groups, so the digest reads
the responses once and adds up a few thousand groups instead of scanning the table once per
breakdown. A window is a choice of rounds: pass the window's round ids.

The covering index `ix_responses_rollup` (migration 0004) holds exactly these columns, so the
database answers from the index alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Response


@dataclass(frozen=True)
class AnswerCount:
    """How many answers in one round, item, facet and segment gave one score with one valence."""

    round_id: int
    item_id: str
    facet: str
    segment: str
    score: int
    valence: int
    n: int


async def answer_counts(session: AsyncSession, round_ids: Sequence[int]) -> list[AnswerCount]:
    """One row per (round, item, facet, segment, score, valence), counted by the database."""
    if not round_ids:
        return []
    stmt = (
        select(
            Response.round_id,
            Response.item_id,
            Response.facet,
            Response.segment,
            Response.score,
            Response.valence,
            func.count(),
        )
        .where(Response.round_id.in_(sorted(set(round_ids))))
        .group_by(
            Response.round_id,
            Response.item_id,
            Response.facet,
            Response.segment,
            Response.score,
            Response.valence,
        )
    )
    return [
        AnswerCount(int(r), str(i), str(f), str(s), int(sc), int(v), int(n))
        for r, i, f, s, sc, v, n in await session.execute(stmt)
    ]


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
    """One row per (round, item, facet, segment) with its valence split, computed by the database."""
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
        ItemCounts(int(r), str(i), str(f), str(s), int(n), int(fav or 0), int(neu or 0), int(unf or 0), int(total or 0))
        for r, i, f, s, n, fav, neu, unf, total in await session.execute(stmt)
    ]
