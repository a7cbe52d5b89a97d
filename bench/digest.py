"""Benchmark 3, digest at scale: a full partnership digest against one plain GROUP BY over the same rows.

The database holds one partnership survey (see bench/datagen.py) at 10,000, 100,000 and 1,000,000
responses. The digest is surveys.operations.digest_for, the same call the CLI and the clock make.
The floor is the cheapest query that reads every answer's count once: a single GROUP BY over the
sealed counts, through the same engine and driver. Goal: the digest within 2x of the floor at
1,000,000 rows. Runs on SQLite always (generated databases are cached in bench/.data) and on
PostgreSQL when PULSE_BENCH_POSTGRES_URL names a server (a scratch database, dropped after).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from bench import product
from bench.datagen import Generated, Shape, cached_sqlite, generate
from bench.profile import Profile, describe
from bench.report import Outcome, ratio
from storage.db import Database, make_engine, normalise_url
from surveys.banks import BankRegistry

SIZES = (Shape(50, 2, 50, 2), Shape(50, 20, 50, 2), Shape(50, 200, 50, 2))
QUICK_SIZES = (Shape(3, 6, 4, 2),)
GOAL = 2.0
FLOOR_SQL = (
    "SELECT round_id, item_id, facet, segment, SUM(n), SUM(score * n) FROM sealed_counts "
    "GROUP BY round_id, item_id, facet, segment"
)


def _repeats(shape: Shape) -> int:
    return 3 if shape.rows >= 1_000_000 else 5 if shape.rows >= 100_000 else 7


async def _timed(fn: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    value = await fn()
    return time.perf_counter() - t0, value


async def _measure(db: Database, registry: BankRegistry, gen: Generated) -> dict[str, Any]:
    async def digest() -> Any:
        return await product.digest_for(db, registry, gen.survey_id, now=gen.now)

    async def floor() -> list[Any]:
        async with db.session() as session:
            return list((await session.execute(text(FLOOR_SQL))).all())

    # One of each first, so both start from a warm cache and warm connections.
    await digest()
    await floor()
    digest_times, floor_times = [], []
    result = rows = None
    for _ in range(_repeats(gen.shape)):
        t, result = await _timed(digest)
        digest_times.append(t)
        t, rows = await _timed(floor)
        floor_times.append(t)
    return {
        "digest_s": statistics.median(digest_times),
        "floor_s": statistics.median(floor_times),
        "digest_times": [round(t, 4) for t in digest_times],
        "floor_times": [round(t, 4) for t in floor_times],
        "digest": result,
        "floor_rows": rows,
    }


def _close(a: float | None, b: float | None) -> bool:
    return a == b or (a is not None and b is not None and abs(a - b) <= 0.051)


def _check_digest(digest: Any, gen: Generated) -> list[str]:
    """The digest's figures against the generator's own tally; [] when they all agree.

    Checked: each item's latest round, its answers and % favourable, each school's figures for it,
    and the previous cycle's when the digest shows one. Hidden figures are not compared.
    """
    problems: list[str] = []
    tally = gen.tally
    latest: dict[str, int] = {}
    for seq, item in tally:
        latest[item] = max(latest.get(item, 0), seq)
    items = getattr(digest, "items", None)
    if items is None:
        return ["the digest has no `items`: update bench/digest.py _check_digest to the new Digest model"]

    def compare(where: str, cell: Any, n: int, fav: int) -> None:
        if getattr(cell, "suppressed", False):
            return
        pct = round(100.0 * fav / n, 1) if n else None
        if cell.n != n or not _close(cell.favourable_pct, pct):
            problems.append(f"{where}: digest n={cell.n} {cell.favourable_pct}%, generated n={n} {pct}%")

    for stat in items:
        seq, item_id = stat.round_seq, stat.item_id
        if latest.get(item_id) != seq:
            problems.append(f"{item_id}: digest shows round {seq}, the latest to ask it was {latest.get(item_id)}")
            continue
        compare(item_id, stat, *tally[(seq, item_id)])
        for seg in getattr(stat, "segments", None) or []:
            counts = gen.by_segment.get((seq, item_id, seg.segment))
            if counts is None:
                problems.append(f"{item_id}/{seg.segment}: a school that was never asked")
            else:
                compare(f"{item_id}/{seg.segment}", seg, *counts)
        previous = getattr(stat, "previous", None)
        if previous is not None:
            counts = tally.get((previous.round_seq, item_id))
            if counts is None:
                problems.append(f"{item_id}: previous round {previous.round_seq} never asked it")
            else:
                compare(f"{item_id} (round {previous.round_seq})", previous, *counts)
    if {s.item_id for s in items} != set(latest):
        problems.append(f"digest covers {len(items)} items, {len(latest)} were asked")
    return problems


async def _bench_one(
    outcome: Outcome,
    backend: str,
    url: str,
    registry: BankRegistry,
    gen: Generated,
    *,
    goal: bool,
    profile_dir: Path | None = None,
) -> dict[str, Any]:
    db = Database(url)
    profile = Profile(profile_dir, f"digest-{backend}-{gen.shape.rows}", os.getpid()) if profile_dir else None
    try:
        m = await _measure(db, registry, gen)
    finally:
        await db.dispose()
        if profile is not None:
            outcome.figures[f"profile {backend}"] = profile.stop()
            outcome.notes.append(f"profile of the {backend} digest: " + describe(outcome.figures[f"profile {backend}"]))
    shape = gen.shape
    label = f"{backend} {shape.rows:,}"
    rows = m.pop("floor_rows")
    digest = m.pop("digest")
    problems = _check_digest(digest, gen)
    outcome.check(f"{label}: GROUP BY sees every response", shape.rows, sum(int(r[4]) for r in rows))
    outcome.check(f"{label}: GROUP BY groups (rounds x items x schools)", gen.groups, len(rows))
    outcome.check(f"{label}: digest figures match what was written", [], problems[:5])
    r = ratio(m["digest_s"], m["floor_s"])
    outcome.row(
        f"{label} rows: digest",
        round(m["digest_s"] * 1000, 2),
        "ms",
        round(m["floor_s"] * 1000, 2),
        "one GROUP BY",
        r,
        f"≤ {GOAL:g}x" if goal else "",
        (r is not None and r <= GOAL) if goal else None,
    )
    return {"backend": backend, "rows": shape.rows, "shape": shape.describe(), **m}


async def _sqlite_db(
    workdir: Path, cache: Path | None, registry: BankRegistry, shape: Shape
) -> tuple[str, Generated, float]:
    """A generated SQLite database for `shape`: from the cache when it is there. Returns seconds spent generating."""
    if cache is not None:
        db_path, meta_path = cached_sqlite(cache, shape)
        if db_path.exists() and meta_path.exists():
            return product.sqlite_url(db_path), Generated.from_json(shape, meta_path.read_text()), 0.0
        _forget_stale(cache, shape)
        building = db_path.with_suffix(".building")
    else:
        building = workdir / f"digest-{shape.label}.db"
    t0 = time.monotonic()
    url = product.sqlite_url(building)
    await asyncio.to_thread(product.migrate, url)
    gen = await generate(url, registry, shape)
    if cache is None:
        return url, gen, time.monotonic() - t0
    building.rename(db_path)
    meta_path.write_text(gen.as_json())
    return product.sqlite_url(db_path), gen, time.monotonic() - t0


def _forget_stale(cache: Path, shape: Shape) -> None:
    """Generations for an older schema or generator are no use to anyone."""
    for old in cache.glob(f"digest-{shape.label}-*"):
        old.unlink()


@contextlib.asynccontextmanager
async def scratch_postgres(server_url: str, tag: str) -> AsyncIterator[str]:
    """A scratch database on the given server, migrated; dropped afterwards."""
    base = make_url(normalise_url(server_url))
    name = f"pulse_bench_{os.getpid()}_{tag}"
    url = base.set(database=name).render_as_string(hide_password=False)
    admin = make_engine(base.render_as_string(hide_password=False), poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        await asyncio.to_thread(product.migrate, url)
        yield url
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def run(
    workdir: Path,
    sizes: tuple[Shape, ...] = SIZES,
    *,
    postgres_url: str | None = None,
    cache: Path | None = None,
    profile_dir: Path | None = None,
) -> Outcome:
    outcome = Outcome(
        "digest",
        params={
            "sizes": [s.describe() for s in sizes],
            "floor": FLOOR_SQL,
            "postgres": bool(postgres_url),
        },
    )
    registry = product.banks()
    # The goal is judged at the largest size (1,000,000 rows in a full run).
    largest = max(sizes, key=lambda s: s.rows)
    results = []
    generation: dict[str, float] = {}
    for shape in sizes:
        url, gen, spent = await _sqlite_db(workdir, cache, registry, shape)
        generation[f"sqlite {shape.rows}"] = round(spent, 1)
        results.append(
            await _bench_one(
                outcome,
                "sqlite",
                url,
                registry,
                gen,
                goal=shape == largest,
                profile_dir=profile_dir if shape == largest else None,
            )
        )
    if postgres_url:
        for shape in sizes:
            async with scratch_postgres(postgres_url, shape.label.replace("x", "_")) as url:
                t0 = time.monotonic()
                gen = await generate(url, registry, shape)
                generation[f"postgres {shape.rows}"] = round(time.monotonic() - t0, 1)
                results.append(
                    await _bench_one(
                        outcome,
                        "postgres",
                        url,
                        registry,
                        gen,
                        goal=shape == largest,
                        profile_dir=profile_dir if shape == largest else None,
                    )
                )
    else:
        outcome.notes.append("PostgreSQL skipped: set PULSE_BENCH_POSTGRES_URL to a server to include it")
    outcome.figures.update(results=results, generation_seconds=generation)
    for backend in ("sqlite", "postgres"):
        rs = [r for r in results if r["backend"] == backend]
        if len(rs) > 1:
            outcome.figures[f"{backend}_growth"] = {
                f"{r['rows']:,}": round(r["digest_s"] / rs[0]["digest_s"], 2) for r in rs
            }
    return outcome
