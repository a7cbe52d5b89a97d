"""Sealing and the digest's rollup: the same groups as counting the held rows by hand, and nothing per person."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

from sqlalchemy import insert, inspect, select

from storage import ballots, rollups
from storage.db import Database
from storage.models import HeldAnswer, Round, SealedCount, Survey

OPENED = dt.datetime(2026, 9, 7, 8, tzinfo=dt.UTC)


async def _rows(db: Database, count: int = 600) -> tuple[list[int], list[dict[str, object]]]:
    rng = random.Random(5)
    async with db.session() as session:
        survey = Survey(
            name="s",
            bank_ids=["b"],
            audience=["C1", "C2"],
            digest_channel="C9",
            schedule="0 9 * * 1",
            digest_schedule="0 8 * * 5",
            seed=1,
        )
        session.add(survey)
        await session.flush()
        round_ids = []
        for seq in (1, 2, 3):
            r = Round(
                survey_id=survey.id,
                seq=seq,
                slot=OPENED + dt.timedelta(weeks=seq),
                opened_at=OPENED,
                closes_at=OPENED,
                items=[],
                audience_size=10,
            )
            session.add(r)
            await session.flush()
            round_ids.append(r.id)
        rows = []
        for i in range(count):
            score = rng.randint(1, 4)
            rows.append(
                {
                    "round_id": rng.choice(round_ids),
                    "item_id": rng.choice(["a", "b", "c"]),
                    "facet": rng.choice(["", "now"]),
                    "respondent_key": f"{i:064x}",
                    "bank_id": "b",
                    "bank_version": 1,
                    "segment": rng.choice(["C1", "C2", "C3"]),
                    "option": f"o{score}",
                    "score": score,
                    "valence": (score > 2) - (score < 2),
                    "seq": rng.randrange(10**15),
                    "picks": None,
                }
            )
        await session.execute(insert(HeldAnswer), rows)
    for round_id in round_ids:
        async with db.writing() as session:
            await ballots.seal(session, round_id)
    return round_ids, rows


async def test_answer_counts_are_the_rows_counted_by_hand(db: Database) -> None:
    round_ids, rows = await _rows(db)
    wanted = round_ids[:2]
    expected = Counter(
        (r["round_id"], r["item_id"], r["facet"], r["segment"], r["score"], r["valence"])
        for r in rows
        if r["round_id"] in wanted
    )
    async with db.session() as session:
        got = await rollups.answer_counts(session, wanted)
        assert await rollups.answer_counts(session, []) == []
    assert {(c.round_id, c.item_id, c.facet, c.segment, c.score, c.valence): c.n for c in got} == dict(expected)
    assert len(got) == len(expected)
    assert sum(c.n for c in got) == sum(1 for r in rows if r["round_id"] in wanted)


async def test_sealing_leaves_counts_only_in_the_order_of_their_groups(db: Database) -> None:
    _, rows = await _rows(db)
    async with db.session() as session:
        assert (await session.scalars(select(HeldAnswer))).all() == []
        # Physical order (no ORDER BY): the groups' own order, nothing of the order answers came in.
        stored = [
            tuple(getattr(c, col) for col in ballots.COUNT_COLUMNS) for c in await session.scalars(select(SealedCount))
        ]
    assert stored == sorted(stored)
    assert sum(1 for _ in rows) == sum(c.n for c in await _sealed(db))
    async with db.engine.connect() as conn:
        columns = await conn.run_sync(lambda c: {col["name"] for col in inspect(c).get_columns("sealed_counts")})
    assert columns == {*ballots.COUNT_COLUMNS, "n"}


async def _sealed(db: Database) -> list[SealedCount]:
    async with db.session() as session:
        return list((await session.scalars(select(SealedCount))).all())
