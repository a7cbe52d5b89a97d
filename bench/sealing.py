"""Benchmark 6, sealing: closing a round of 10,000 held answers, against one INSERT … SELECT of them.

Sealing (surveys/closing.py:close_round -> storage/ballots.py:seal) claims the round, purges its
delivery rows, counts its held answers into `sealed_counts`, deletes them and erases the round's
key, in one transaction. The floor is the cheapest statement that touches every held row once:
one `INSERT INTO … SELECT` of the round's rows into a scratch table of the same shape, in its own
transaction, through the same engine. Each repeat opens a fresh round, fills it (untimed), times
the floor, then times the seal; medians are compared. Goal: sealing within 1.5x of the floor and
under a second. After timing: the sealed counts of every round add up to the answers held, and
no held row or key is left.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import os
import statistics
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text

from bench.report import Outcome, ratio
from storage import ballots
from storage.db import Database
from storage.migrate import upgrade
from storage.models import HeldAnswer, Round, RoundKey, SealedCount
from surveys.closing import close_round
from surveys.config import SurveyConfig

ANSWERS = 10_000
GOAL = 1.5
SCHOOLS = ("C0OAK", "C0ELM", "C0BIR", "C0ASH")
OPTIONS = (("strongly-agree", 4, 1), ("agree", 3, 1), ("disagree", 2, -1), ("strongly-disagree", 1, -1))
BANK = "staff-trust-in-leadership"
START = dt.datetime(2026, 9, 7, 8, 0, tzinfo=dt.UTC)
SCRATCH = "bench_held_copy"
COLUMNS = ", ".join(c.name for c in HeldAnswer.__table__.columns)


def _rows(round_id: int, answers: int) -> list[dict[str, Any]]:
    items = 5
    out = []
    for n in range(answers):
        person, item = divmod(n, items)
        option, score, valence = OPTIONS[(person * 7 + item * 3) % len(OPTIONS)]
        key = hashlib.sha256(f"{round_id}|{item}|{person}".encode()).hexdigest()
        out.append(
            {
                "round_id": round_id,
                "respondent_key": key,
                "facet": "",
                "bank_id": BANK,
                "item_id": f"lead-{item}",
                "bank_version": 1,
                "segment": SCHOOLS[person % len(SCHOOLS)],
                "option": option,
                "score": score,
                "valence": valence,
                "seq": 1_000_000 * n,
                "picks": None,
            }
        )
    return out


async def _new_round(db: Database, survey_id: int, seq: int, answers: int) -> int:
    async with db.writing() as session:
        opened = START + dt.timedelta(days=seq)
        round_ = Round(
            survey_id=survey_id,
            seq=seq,
            slot=opened,
            opened_at=opened,
            closes_at=opened + dt.timedelta(hours=72),
            items=[{"bank": BANK, "item": f"lead-{i}"} for i in range(5)],
            audience_size=answers // 5,
            k=5,
        )
        session.add(round_)
        await session.flush()
        await ballots.add_round_key(session, round_.id, os.urandom(32))
        rows = _rows(round_.id, answers)
        for start in range(0, len(rows), 2_000):
            await session.execute(insert(HeldAnswer), rows[start : start + 2_000])
        return round_.id


async def _floor(db: Database, round_id: int) -> float:
    async with db.writing() as session:
        t0 = time.perf_counter()
        await session.execute(
            text(f"INSERT INTO {SCRATCH} ({COLUMNS}) SELECT {COLUMNS} FROM held_answers WHERE round_id = :r"),
            {"r": round_id},
        )
        await session.commit()
        elapsed = time.perf_counter() - t0
    async with db.writing() as session:
        await session.execute(text(f"DELETE FROM {SCRATCH}"))
    return elapsed


async def _seal(db: Database, round_id: int) -> float:
    t0 = time.perf_counter()
    async with db.writing() as session:
        assert await close_round(session, round_id, now=START + dt.timedelta(days=400))
        await session.commit()
    return time.perf_counter() - t0


async def _measure(url: str, label: str, answers: int, repeats: int, outcome: Outcome) -> None:
    if url.startswith("sqlite"):
        await asyncio.to_thread(upgrade, url)  # scratch_postgres migrates its own
    db = Database(url)
    try:
        async with db.writing() as session:
            survey = SurveyConfig(bank_ids=[BANK], audience=list(SCHOOLS), digest_channel="C0LEADERS").to_model()
            session.add(survey)
            await session.flush()
            survey_id = survey.id
            await session.execute(text(f"CREATE TABLE {SCRATCH} AS SELECT {COLUMNS} FROM held_answers WHERE 1 = 0"))
        seal_times, floor_times, rounds = [], [], []
        for seq in range(1, repeats + 2):  # the first pair warms caches and connections, untimed
            round_id = await _new_round(db, survey_id, seq, answers)
            floor_s = await _floor(db, round_id)
            seal_s = await _seal(db, round_id)
            rounds.append(round_id)
            if seq > 1:
                floor_times.append(floor_s)
                seal_times.append(seal_s)
        seal_s, floor_s = statistics.median(seal_times), statistics.median(floor_times)
        outcome.row(
            f"{label}: seal a round of {answers:,} answers",
            round(seal_s * 1000, 1),
            "ms",
            round(floor_s * 1000, 1),
            "one INSERT … SELECT of them",
            ratio(seal_s, floor_s),
            f"≤ {GOAL}x and < 1 s",
            seal_s <= GOAL * floor_s and seal_s < 1.0,
        )
        outcome.figures[label] = {"seal_times": seal_times, "floor_times": floor_times}
        async with db.session() as session:
            sealed = await session.execute(
                select(SealedCount.round_id, func.sum(SealedCount.n)).group_by(SealedCount.round_id)
            )
            totals = {int(r): int(n) for r, n in sealed.all()}
            held = await session.scalar(select(func.count()).select_from(HeldAnswer))
            keys = await session.scalar(select(func.count()).select_from(RoundKey))
        expected = {r: answers for r in rounds}
        outcome.check(f"{label}: sealed counts add up to the answers held, every round", expected, totals)
        outcome.check(f"{label}: no held answer and no round key left", (0, 0), (held, keys))
    finally:
        await db.dispose()


async def run(workdir: Path, *, answers: int = ANSWERS, repeats: int = 7, postgres_url: str | None = None) -> Outcome:
    outcome = Outcome("sealing", params={"answers": answers, "repeats": repeats})
    await _measure(f"sqlite:///{workdir}/sealing.db", "SQLite", answers, repeats, outcome)
    if postgres_url:
        from bench.digest import scratch_postgres

        async with scratch_postgres(postgres_url, "sealing") as url:
            await _measure(url, "PostgreSQL", answers, repeats, outcome)
    return outcome
