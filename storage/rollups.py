"""Roll sealed counts up in SQL.

`answer_counts` is the digest's one scan: a GROUP BY at the finest grain any figure needs
(round, item, facet, segment, score, valence). Every coarser figure (per item, aspect, strand,
school, round, cycle or rolling window of rounds) is a sum of these groups, so the digest reads
the counts once and adds up a few thousand groups instead of scanning once per breakdown. A
window is a choice of rounds: pass the window's round ids. Only sealed rounds have counts; an
open round's answers are held apart (storage/ballots.py) and read by nobody's digest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import SealedCount


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
    """One row per (round, item, facet, segment, score, valence), summed by the database."""
    if not round_ids:
        return []
    grain = (
        SealedCount.round_id,
        SealedCount.item_id,
        SealedCount.facet,
        SealedCount.segment,
        SealedCount.score,
        SealedCount.valence,
    )
    stmt = (
        select(*grain, func.sum(SealedCount.n)).where(SealedCount.round_id.in_(sorted(set(round_ids)))).group_by(*grain)
    )
    return [
        AnswerCount(int(r), str(i), str(f), str(s), int(sc), int(v), int(n))
        for r, i, f, s, sc, v, n in await session.execute(stmt)
    ]
