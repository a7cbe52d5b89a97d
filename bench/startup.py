"""Benchmark 5, start-up: from launching `pulse serve` to a 200 from /healthz.

Baselines, measured in the same run and in turn with the product: a bare interpreter that imports
nothing (`python -I -S -c pass`, to exit) and the smallest aiohttp server (to its first 200).
`pulse serve` is timed twice: on a fresh SQLite file (it runs the migrations first, as a first
deploy does) and on an already migrated one (every later restart).
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench import product
from bench.procs import Child, child_env, free_port, python_module, wait_http_ok
from bench.report import Outcome, ratio
from tests.slack_double import SlackDouble


async def _bare_python() -> float:
    t0 = time.monotonic()
    proc = await asyncio.to_thread(subprocess.run, [sys.executable, "-I", "-S", "-c", "pass"], check=True)
    del proc
    return time.monotonic() - t0


async def _to_healthz(name: str, argv: list[str], env: dict[str, str], workdir: Path, port: int) -> tuple[float, Child]:
    child = Child(name, argv, env=env, cwd=workdir, log_path=workdir / f"{name}.log")
    child.start()
    try:
        ready = await wait_http_ok(f"http://127.0.0.1:{port}/healthz", child=child, within=60, interval=0.002)
        return ready - child.started_at, child
    finally:
        child.stop()


async def run(workdir: Path, repeats: int = 3) -> Outcome:
    outcome = Outcome("startup", params={"repeats": repeats})
    times: dict[str, list[float]] = {
        "bare python": [],
        "aiohttp hello": [],
        "pulse serve (fresh db)": [],
        "pulse serve (migrated db)": [],
    }
    migrated = workdir / "migrated.db"
    await asyncio.to_thread(product.migrate, product.sqlite_url(migrated))
    async with SlackDouble(token="xoxb-bench") as double:
        for i in range(repeats):
            times["bare python"].append(await _bare_python())
            port = free_port()
            t, _ = await _to_healthz(
                "hello", python_module("bench.hello_server", "--port", str(port)), child_env(), workdir, port
            )
            times["aiohttp hello"].append(t)
            for label, db_path in (
                ("pulse serve (fresh db)", workdir / f"fresh-{i}.db"),
                ("pulse serve (migrated db)", migrated),
            ):
                port = free_port()
                env = product.serve_env(
                    database_url=product.sqlite_url(db_path), api_url=double.api_url, token=double.token, port=port
                )
                t, child = await _to_healthz("pulse-serve", product.serve_command(), env, workdir, port)
                times[label].append(t)
                outcome.check(
                    f"{label} run {i + 1}: stopped cleanly on SIGTERM", 0, child.proc.returncode if child.proc else None
                )
    med = {k: statistics.median(v) for k, v in times.items()}
    outcome.figures.update(seconds={k: [round(t, 3) for t in v] for k, v in times.items()}, medians=med)
    for label in ("pulse serve (migrated db)", "pulse serve (fresh db)"):
        outcome.row(
            f"{label} to /healthz 200",
            round(med[label] * 1000),
            "ms",
            round(med["aiohttp hello"] * 1000),
            "aiohttp hello",
            ratio(med[label], med["aiohttp hello"]),
        )
    outcome.row(
        "pulse serve (migrated db) vs bare python",
        round(med["pulse serve (migrated db)"] * 1000),
        "ms",
        round(med["bare python"] * 1000),
        "bare python",
        ratio(med["pulse serve (migrated db)"], med["bare python"]),
    )
    return outcome
