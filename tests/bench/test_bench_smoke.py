"""The benchmarks still run, end to end, at sizes too small to mean anything.

No timing is asserted here (timing lives in bench/): each benchmark must finish, produce its
figures, and pass its own correctness checks (stored responses = clicks acknowledged, every
recipient reached at most once, the digest's figures equal what was written).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from bench import datagen, digest, fanout, floor, ingestion, jpd, memory, product, sealing, startup
from bench.datagen import Shape
from bench.report import Outcome
from storage.db import Database
from tests.db import POSTGRES_ENV

pytestmark = pytest.mark.slow


def _failed(outcome: Outcome) -> list[str]:
    return [f"{c.name}: expected {c.expected!r}, got {c.actual!r}" for c in outcome.checks if not c.ok]


def _check_named(outcome: Outcome, fragment: str) -> bool:
    return any(fragment in c.name and c.ok for c in outcome.checks)


async def test_ingestion_and_memory(tmp_path: Path) -> None:
    params = ingestion.Params(concurrency=4, duration=0.5, rounds=1, warmup=0.0, settle_timeout=20)
    outcome = await ingestion.run(tmp_path, params)
    assert _failed(outcome) == []
    assert _check_named(outcome, "stored responses = clicks acknowledged")
    runs = outcome.figures["runs"]
    assert {r["app"] for r in runs} == {"product", "bare-ack", "bare-confirm"}
    product_run = next(r for r in runs if r["app"] == "product")
    assert product_run["acked"] > 0 and product_run["stored_responses"] == product_run["acked"]
    assert product_run["confirmations"] == product_run["acked"]
    assert next(r for r in runs if r["app"] == "bare-ack")["confirmations"] == 0

    mem = await memory.run(tmp_path, outcome)
    assert _failed(mem) == []
    peaks = [r.value for r in mem.rows]
    assert len(peaks) == 2 and all(isinstance(v, float) and v > 0 for v in peaks)


async def test_fanout(tmp_path: Path) -> None:
    params = fanout.Params(recipients=5, workspace_per_second=50.0, finish_timeout=20.0)
    outcome = await fanout.run(tmp_path, params)
    assert _failed(outcome) == []
    assert _check_named(outcome, "no recipient got the round twice")
    assert outcome.figures["double"]["members"] == 5
    assert outcome.figures["double"]["accepted_posts"] >= 1


async def test_digest(tmp_path: Path) -> None:
    shape = Shape(schools=3, staff=6, rounds=4, items=2)
    outcome = await digest.run(tmp_path, (shape,), postgres_url=os.environ.get(POSTGRES_ENV) or None)
    assert _failed(outcome) == []
    assert _check_named(outcome, "digest figures match what was written")
    assert all(r["rows"] == shape.rows for r in outcome.figures["results"])


async def test_sealing(tmp_path: Path) -> None:
    outcome = await sealing.run(tmp_path, answers=200, repeats=1, postgres_url=os.environ.get(POSTGRES_ENV) or None)
    assert _failed(outcome) == []
    assert _check_named(outcome, "sealed counts add up to the answers held")
    assert all(r.value is not None and r.baseline is not None for r in outcome.rows)


async def test_digest_check_catches_a_wrong_figure(tmp_path: Path) -> None:
    shape = Shape(schools=2, staff=5, rounds=2, items=1)
    url = product.sqlite_url(tmp_path / "d.db")
    await asyncio.to_thread(product.migrate, url)
    gen = await datagen.generate(url, product.banks(), shape)
    db = Database(url)
    try:
        result = await product.digest_for(db, product.banks(), gen.survey_id, now=gen.now)
    finally:
        await db.dispose()
    assert digest._check_digest(result, gen) == []
    item = next(i for i in result.items if not i.suppressed)
    item.n += 1
    assert any(item.item_id in p for p in digest._check_digest(result, gen))


async def test_startup(tmp_path: Path) -> None:
    outcome = await startup.run(tmp_path, repeats=1)
    assert _failed(outcome) == []
    assert all(r.value is not None and r.value > 0 for r in outcome.rows)


async def test_floor(tmp_path: Path) -> None:
    params = floor.Params(concurrency=4, duration=1.5, rounds=1, warmup=0.0, people_goal=1)
    outcome = await floor.run(tmp_path, params)
    assert _failed(outcome) == []
    assert _check_named(outcome, "stored answers = product clicks acknowledged")
    stats = outcome.figures["stats"]
    assert {"ack_p99.9_ms", "confirm_p99.9_ms", "peak_rss_mb"} <= set(stats["product"])
    assert outcome.figures["items_clicked"] == sum(floor.ITEMS)
    curves = outcome.figures["rss_curves"]["product"]
    assert curves and all(mb > 0 for curve in curves for _t, mb in curve)


async def test_jpd() -> None:
    outcome = await jpd.run(people=30, repeats=1)
    assert _failed(outcome) == []
    for pool in jpd.POOLS:
        figures = outcome.figures[pool]
        assert figures["grouped"] + figures["unmatched"] == 30
        assert figures["grouped"] >= figures["grouped_by_pairs_alone"]
