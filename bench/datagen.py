"""A partnership's year of answers, written straight into the database (not through the app).

One survey over `schools` school channels; `rounds` weekly rounds of `items` items each; every one
of `staff` people per school answers every item. Answers are drawn from a seeded RNG (each school
has its own warmth), and the generator keeps its own tally of what it wrote, so the digest built
from the database can be checked against it. Every round is closed, so its answers are stored as
sealing leaves them: counts per (round, item, school, option), never a row per person. Surveys
and rounds go in through the ORM (a few dozen rows); counts go in with executemany on SQLite and
COPY on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import make_url

from bench import product
from storage.db import Database, normalise_url
from storage.migrate import MIGRATIONS
from storage.models import Round, SealedCount
from surveys.banks import BankRegistry

GENERATOR_VERSION = 3
FIRST_ROUND = dt.datetime(2025, 9, 1, 9, 0, tzinfo=ZoneInfo("Europe/London"))
COLUMNS = tuple(column.name for column in SealedCount.__table__.columns)
CHUNK = 50_000


@dataclass(frozen=True)
class Shape:
    schools: int
    staff: int
    rounds: int
    items: int

    @property
    def rows(self) -> int:
        return self.schools * self.staff * self.rounds * self.items

    @property
    def label(self) -> str:
        return f"{self.schools}x{self.staff}x{self.rounds}x{self.items}"

    def describe(self) -> str:
        return (
            f"{self.schools} schools x {self.staff} staff x {self.rounds} weekly rounds x {self.items} items "
            f"= {self.rows:,} responses"
        )


@dataclass
class Generated:
    """What the generator wrote, in its own words: the expected answers to check the digest against."""

    shape: Shape
    survey_id: int
    now: dt.datetime
    # (round seq, item id, segment) -> [answers, favourable answers]
    by_segment: dict[tuple[int, str, str], list[int]] = field(default_factory=dict)
    groups: int = 0

    @property
    def tally(self) -> dict[tuple[int, str], list[int]]:
        """(round seq, item id) -> [answers, favourable answers], all schools together."""
        out: dict[tuple[int, str], list[int]] = {}
        for (seq, item, _segment), (n, fav) in self.by_segment.items():
            counts = out.setdefault((seq, item), [0, 0])
            counts[0] += n
            counts[1] += fav
        return out

    def as_json(self) -> str:
        return json.dumps(
            {
                "survey_id": self.survey_id,
                "now": self.now.isoformat(),
                "groups": self.groups,
                "by_segment": [
                    [seq, item, seg, n, fav] for (seq, item, seg), (n, fav) in sorted(self.by_segment.items())
                ],
            }
        )

    @classmethod
    def from_json(cls, shape: Shape, raw: str) -> Generated:
        data = json.loads(raw)
        by_segment = {(seq, item, seg): [n, fav] for seq, item, seg, n, fav in data["by_segment"]}
        return cls(shape, data["survey_id"], dt.datetime.fromisoformat(data["now"]), by_segment, data["groups"])


def schema_key() -> str:
    """Changes when the migrations or this generator change, so a cached database is never stale."""
    h = hashlib.sha256(f"generator {GENERATOR_VERSION}".encode())
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:12]


def _channels(shape: Shape) -> list[str]:
    return [f"C0SCH{s:04d}" for s in range(1, shape.schools + 1)]


async def _survey_and_rounds(
    db: Database, registry: BankRegistry, shape: Shape
) -> tuple[int, list[tuple[int, int, dt.datetime, list[str]]], dt.datetime]:
    bank = registry[product.BANK]
    survey_id = await product.create_survey(
        db, name="Bench partnership", audience=_channels(shape), items_per_round=shape.items, round_hours=72
    )
    out = []
    async with db.session() as session:
        for r in range(shape.rounds):
            opened = (FIRST_ROUND + dt.timedelta(weeks=r)).astimezone(dt.UTC)
            refs = []
            for j in range(shape.items):
                index = r * shape.items + j
                item = bank.items[index % len(bank.items)]
                refs.append(
                    {"bank": bank.id, "version": bank.version, "item": item.id, "cycle": index // len(bank.items)}
                )
            round_ = Round(
                survey_id=survey_id,
                seq=r + 1,
                slot=opened,
                opened_at=opened,
                closes_at=opened + dt.timedelta(hours=72),
                closed_at=opened + dt.timedelta(hours=72),
                items=refs,
                audience_size=shape.schools * shape.staff,
            )
            session.add(round_)
            await session.flush()
            out.append((round_.id, r + 1, opened, [str(ref["item"]) for ref in refs]))
    now = out[-1][2] + dt.timedelta(days=4)
    return survey_id, out, now


def _rows(
    registry: BankRegistry, shape: Shape, rounds: list[tuple[int, int, dt.datetime, list[str]]], gen: Generated
) -> Iterator[tuple[Any, ...]]:
    bank = registry[product.BANK]
    rng = random.Random(f"pulse-bench-{shape.label}")
    channels = _channels(shape)
    warmth = [rng.uniform(0.35, 0.9) for _ in channels]
    for round_id, seq, _opened, item_ids in rounds:
        for item_id in item_ids:
            item = bank.item(item_id)
            assert item is not None
            options = bank.scale_of(item).options
            favourable_options, other_options = options[:2], options[2:]
            for s, channel in enumerate(channels):
                counts = gen.by_segment.setdefault((seq, item_id, channel), [0, 0])
                sealed: dict[tuple[str, int, int], int] = {}
                for _person in range(shape.staff):
                    agree = rng.random() < warmth[s]
                    if item.reverse:
                        agree = not agree
                    option = rng.choice(favourable_options if agree else other_options)
                    valence = bank.valence(item, option.value)
                    counts[0] += 1
                    counts[1] += valence == 1
                    group = (option.value, option.score, valence)
                    sealed[group] = sealed.get(group, 0) + 1
                for (value, score, valence), n in sorted(sealed.items()):
                    row = {
                        "round_id": round_id,
                        "bank_id": bank.id,
                        "item_id": item_id,
                        "facet": "",
                        "segment": channel,
                        "score": score,
                        "valence": valence,
                        "option": value,
                        "bank_version": bank.version,
                        "n": n,
                    }
                    yield tuple(row[c] for c in COLUMNS)
            gen.groups += len(channels)


def _chunks(rows: Iterator[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    chunk: list[tuple[Any, ...]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


async def generate(url: str, registry: BankRegistry, shape: Shape) -> Generated:
    """Fill an empty, migrated database at `url` with `shape`'s responses."""
    db = Database(url)
    try:
        survey_id, rounds, now = await _survey_and_rounds(db, registry, shape)
    finally:
        await db.dispose()
    gen = Generated(shape, survey_id, now)
    rows = _rows(registry, shape, rounds, gen)
    if db.is_sqlite:
        _sqlite_load(make_url(db.url).database or "", rows)
    else:
        await _postgres_load(url, rows)
    return gen


def _sqlite_load(path: str, rows: Iterator[tuple[Any, ...]]) -> None:
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=OFF")
        sql = f"INSERT INTO sealed_counts ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
        with conn:
            for chunk in _chunks(rows):
                conn.executemany(sql, chunk)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def asyncpg_dsn(url: str) -> str:
    return make_url(normalise_url(url)).set(drivername="postgresql").render_as_string(hide_password=False)


async def _postgres_load(url: str, rows: Iterator[tuple[Any, ...]]) -> None:
    import asyncpg

    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        for chunk in _chunks(rows):
            await conn.copy_records_to_table("sealed_counts", records=chunk, columns=list(COLUMNS))
        # As autovacuum would have done by the time anyone asks for a digest.
        await conn.execute("VACUUM ANALYZE sealed_counts")
    finally:
        await conn.close()


def cached_sqlite(cache: Path, shape: Shape) -> tuple[Path, Path]:
    stem = f"digest-{shape.label}-{schema_key()}"
    return cache / f"{stem}.db", cache / f"{stem}.json"
