"""Migration 0008 (the sealed ballot box) on a database holding closed rounds, both ways.

Down to 0007 the sealed counts become per-answer rows again (under random keys) and comments
keyed rows; back up, 0008 seals them again. The digest, every figure, suppression and trend, and
the released comments, must come out the same: nothing lost, nothing counted twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import func, insert, select, text

from storage.db import Database
from storage.migrate import downgrade, upgrade
from storage.models import HeldAnswer, RoundKey, SealedComment, SealedCount
from surveys import operations
from surveys.banks import BankRegistry
from tests.surveys.digest_seed import NOW, seed

LATER = NOW + dt.timedelta(days=3)  # every round, the ninth included, has closed and is sealed


async def _digest(db_url: str, banks: BankRegistry, survey_id: int) -> tuple[str, list[str]]:
    db = Database(db_url)
    try:
        digest = await operations.digest_for(db, banks, survey_id, now=LATER)
    finally:
        await db.dispose()
    comments = sorted(digest.comments)
    return digest.model_copy(update={"comments": []}).model_dump_json(), comments


async def test_closed_rounds_go_down_to_rows_and_back_up_to_the_same_digest(db_url: str, banks: BankRegistry) -> None:
    db = Database(db_url)
    seeded = await seed(db, banks)
    first = seeded.rounds[1].id
    async with db.session() as session:
        texts = [f"A remark, number {i}" for i in range(12)]
        await session.execute(
            insert(SealedComment), [{"round_id": first, "ordinal": i, "text": t} for i, t in enumerate(texts)]
        )
    await db.dispose()
    before, comments = await _digest(db_url, banks, seeded.survey_id)
    assert sorted(comments) == sorted(texts)
    db = Database(db_url)
    async with db.session() as session:
        answers = int(await session.scalar(select(func.sum(SealedCount.n))) or 0)
    await db.dispose()
    assert answers > 1000

    await asyncio.to_thread(downgrade, db_url, "0007")
    db = Database(db_url)
    async with db.session() as session:
        assert await session.scalar(text("SELECT count(*) FROM responses")) == answers
        assert await session.scalar(text("SELECT count(*) FROM comments")) == len(texts)
    await db.dispose()

    await asyncio.to_thread(upgrade, db_url)
    after, comments_after = await _digest(db_url, banks, seeded.survey_id)
    assert after == before
    assert comments_after == comments
    db = Database(db_url)
    async with db.session() as session:
        assert await session.scalar(select(func.sum(SealedCount.n))) == answers
        assert await session.scalar(select(func.count()).select_from(HeldAnswer)) == 0
        assert await session.scalar(select(func.count()).select_from(RoundKey)) == 0
    await db.dispose()
