"""The digest's rollup query: the same groups as counting the rows by hand, from the covering index."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

from sqlalchemy import insert, inspect, text

from storage import rollups
from storage.db import Database
from storage.models import Response, Round, Survey

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
                    "respondent_key": f"{i:064d}",
                    "bank_id": "b",
                    "bank_version": 1,
                    "segment": rng.choice(["C1", "C2", "C3"]),
                    "option": f"o{score}",
                    "score": score,
                    "valence": (score > 2) - (score < 2),
                    "day": OPENED.date(),
                }
            )
        await session.execute(insert(Response), rows)
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


async def test_the_rollup_reads_only_its_covering_index(db: Database) -> None:
    async with db.engine.connect() as conn:
        indexes = await conn.run_sync(
            lambda c: {i["name"]: i["column_names"] for i in inspect(c).get_indexes("responses")}
        )
        assert indexes["ix_responses_rollup"] == ["round_id", "item_id", "facet", "segment", "score", "valence"]
        if db.is_sqlite:
            plan = await conn.execute(
                text(
                    "EXPLAIN QUERY PLAN SELECT round_id, item_id, facet, segment, score, valence, count(*) "
                    "FROM responses WHERE round_id IN (1, 2) "
                    "GROUP BY round_id, item_id, facet, segment, score, valence"
                )
            )
            details = " ".join(str(row[-1]) for row in plan)
            assert "COVERING INDEX ix_responses_rollup" in details
            assert "TEMP B-TREE" not in details
