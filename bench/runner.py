"""Which benchmark runs with which sizes: the full sizes for `make bench`, tiny ones for --quick and the smoke test."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from bench.report import Outcome

DATA = Path(__file__).resolve().parent / ".data"
POSTGRES_ENV = "PULSE_BENCH_POSTGRES_URL"


def data_dir() -> Path:
    """bench/.data: generated databases worth keeping between runs; never committed."""
    DATA.mkdir(exist_ok=True)
    ignore = DATA / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")
    return DATA


async def run(
    name: str,
    workdir: Path,
    *,
    quick: bool = False,
    pin: bool = True,
    profile: bool = False,
    state: dict[str, Any],
) -> Outcome:
    profile_dir = data_dir() / "profiles" if profile else None
    if name == "ingestion":
        from bench import ingestion

        params = ingestion.Params(pin=pin, profile_dir=profile_dir)
        if quick:
            params = ingestion.Params(
                concurrency=4, duration=1.0, rounds=1, warmup=0.3, pin=pin, profile_dir=profile_dir
            )
        outcome = await ingestion.run(workdir, params)
        state["ingestion"] = outcome
        return outcome
    if name == "fanout":
        from bench import fanout

        fparams = fanout.Params(profile_dir=profile_dir)
        if quick:
            fparams = fanout.Params(recipients=200, workspace_per_second=100.0, profile_dir=profile_dir)
        return await fanout.run(workdir, fparams)
    if name == "digest":
        from bench import digest

        sizes = digest.QUICK_SIZES if quick else digest.SIZES
        return await digest.run(
            workdir,
            sizes,
            postgres_url=os.environ.get(POSTGRES_ENV) or None,
            cache=None if quick else data_dir(),
            profile_dir=profile_dir,
        )
    if name == "sealing":
        from bench import sealing

        if quick:
            return await sealing.run(workdir, answers=200, repeats=1)
        return await sealing.run(workdir, postgres_url=os.environ.get(POSTGRES_ENV) or None)
    if name == "memory":
        from bench import memory

        return await memory.run(workdir, state.get("ingestion"), quick=quick, pin=pin)
    if name == "startup":
        from bench import startup

        return await startup.run(workdir, repeats=1 if quick else 3)
    if name == "floor":
        from bench import floor

        fl = floor.Params(pin=pin)
        if quick:
            fl = floor.Params(concurrency=4, duration=1.0, rounds=1, warmup=0.3, pin=pin, people_goal=1)
        return await floor.run(workdir, fl)
    if name == "jpd":
        from bench import jpd

        return await jpd.run(people=30 if quick else 300, repeats=1 if quick else 5)
    raise ValueError(f"unknown benchmark {name}")
