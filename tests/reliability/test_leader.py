"""Exactly one clock schedules: a second one waits, and takes over when the first dies.

In one process (two contexts, two database engines, as two processes would have) and with real
`pulse clock` processes killed with SIGKILL, on SQLite (a lock file) and PostgreSQL (an
advisory lock held by a connection).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from bot.context import Context
from bot.scheduler import LeadingClock
from storage.db import Database
from surveys.banks import BankRegistry
from tests.harness import ANONYMITY_SECRET, BOT_TOKEN, SIGNING_SECRET
from tests.reliability.test_clocks import _settings
from tests.slack_double import SlackDouble

ROOT = Path(__file__).resolve().parents[2]


async def _until(predicate, limit: float = 10.0) -> float:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    started = loop.time()
    while not predicate():
        assert loop.time() - started < limit, "timed out"
        await asyncio.sleep(0.02)
    return loop.time() - started


async def test_one_of_two_clocks_leads_and_the_other_takes_over_when_it_stops(db_url: str, banks: BankRegistry) -> None:
    async with SlackDouble() as double:
        clocks = []
        for _ in range(2):
            ctx = Context(settings=_settings(db_url, double), db=Database(db_url), banks=banks, secret=ANONYMITY_SECRET)
            clocks.append(LeadingClock(ctx, poll=0.05))
        try:
            for c in clocks:
                c.start()
            await _until(lambda: any(c.leading for c in clocks))
            await asyncio.sleep(0.3)  # the other has tried the lock several times meanwhile
            assert [c.leading for c in clocks].count(True) == 1
            leader, standby = (clocks[0], clocks[1]) if clocks[0].leading else (clocks[1], clocks[0])
            assert leader.clock is not None and leader.clock.scheduler.running
            await leader.stop()
            took = await _until(lambda: standby.leading, limit=5.0)
            assert took < 1.0 and standby.clock is not None and standby.clock.scheduler.running
        finally:
            for c in clocks:
                await c.stop()
                await c.ctx.db.dispose()


async def _pulse_clock(db_url: str, double: SlackDouble) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": double.api_url,
        "DATABASE_URL": db_url,
        "PULSE_ANONYMITY_SECRET": ANONYMITY_SECRET.decode(),
        "PULSE_BANKS_DIR": str(ROOT / "no-custom-banks"),
        "LOG_LEVEL": "INFO",
        "PYTHONPATH": str(ROOT),
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from bot.cli import main; main()",
        "clock",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def test_a_killed_pulse_clock_is_replaced_by_the_waiting_one_within_seconds(db_url: str) -> None:
    async with SlackDouble() as double:
        procs = [await _pulse_clock(db_url, double) for _ in range(2)]
        lines: dict[int, list[str]] = {0: [], 1: []}

        async def read(i: int) -> None:
            stream = procs[i].stdout
            assert stream is not None
            async for raw in stream:
                lines[i].append(raw.decode(errors="replace"))

        readers = [asyncio.create_task(read(i)) for i in range(2)]

        def leads(i: int) -> bool:
            return any("this clock now schedules" in line for line in lines[i])

        try:
            await _until(lambda: leads(0) or leads(1), limit=60.0)
            await asyncio.sleep(3 * 2.0)  # several polls of the waiting one
            assert [leads(0), leads(1)].count(True) == 1, lines
            first = 0 if leads(0) else 1
            other = 1 - first
            assert any("waits to take over" in line for line in lines[other]), lines[other]
            procs[first].send_signal(signal.SIGKILL)
            await procs[first].wait()
            took = await _until(lambda: leads(other), limit=30.0)
            assert took < 10.0, took
        finally:
            for p in procs:
                if p.returncode is None:
                    p.send_signal(signal.SIGTERM)
                    try:
                        await asyncio.wait_for(p.wait(), 10)
                    except TimeoutError:
                        p.kill()
            for r in readers:
                r.cancel()
