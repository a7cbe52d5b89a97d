"""Two `web` and two `clock` processes on one PostgreSQL, started from the real entry points.

One person clicks through both webs in turn: the last click stands. A round goes out through two
senders at once (`pulse rounds open` and the leading clock's outbox) under one workspace budget:
every channel gets it once and the budget is never exceeded. The leading clock is killed: the
other one takes over. Several machines need PostgreSQL; on SQLite this is skipped.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import time
from collections import Counter
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from storage import repo
from storage.db import Database
from storage.models import HeldAnswer
from surveys.pacing import Rate
from tests.harness import BOT_TOKEN, SIGNING_SECRET, buttons_of, click_body, signed_headers
from tests.reliability.conftest import add_survey, assert_rows_match_messages, round_messages
from tests.reliability.test_shared_budget import within_budget
from tests.slack_double import SlackDouble

ROOT = Path(__file__).resolve().parents[2]
CHANNELS = [f"C0MCH{n:03d}" for n in range(30)]
PER_SECOND, BURST = 10, 2
PERSON = "UMACHINE1"

pytestmark = pytest.mark.slow


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(db_url: str, double: SlackDouble, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": double.api_url,
        "DATABASE_URL": db_url,
        "PULSE_ANONYMITY_SECRET": "a-machines-test-secret-that-is-long-enough-0123",
        "PULSE_BANKS_DIR": str(ROOT / "no-custom-banks"),
        "PULSE_SEND_WORKSPACE_PER_SECOND": str(PER_SECOND),
        "PULSE_SEND_WORKSPACE_BURST": str(BURST),
        "LOG_LEVEL": "INFO",
        "PYTHONPATH": str(ROOT),
        **extra,
    }


async def _pulse(env: dict[str, str], *argv: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from bot.cli import main; main()",
        *argv,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


class Output:
    """Every line a process printed, read as it comes."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.lines: list[str] = []
        self.task = asyncio.create_task(self._read(proc))

    async def _read(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        async for raw in proc.stdout:
            self.lines.append(raw.decode(errors="replace"))

    def says(self, text: str) -> bool:
        return any(text in line for line in self.lines)


async def _until(predicate, limit: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + limit
    while not await predicate() if asyncio.iscoroutinefunction(predicate) else not predicate():
        assert asyncio.get_running_loop().time() < deadline, f"timed out: {what}"
        await asyncio.sleep(0.1)


def _click(button: dict[str, object], channel: str, action_ts: float, double: SlackDouble) -> str:
    return click_body(double.team_id, PERSON, channel, dict(button), action_ts=action_ts)


async def test_two_webs_and_two_clocks_share_one_postgresql(db_url: str, db: Database) -> None:
    if "postgresql" not in db_url:
        pytest.skip("several machines share PostgreSQL; SQLite is one machine")
    double = SlackDouble(channels={c: {"name": c.lower(), "members": ["UL0001", PERSON]} for c in CHANNELS})
    procs: list[asyncio.subprocess.Process] = []
    async with double:
        # Posts take a moment, so the two senders below overlap.
        double.faults.slow("chat.postMessage", 0.05)
        survey = await add_survey(db, audience_kind="channels", audience=CHANNELS)
        ports = [_port(), _port()]
        try:
            webs = [await _pulse(_env(db_url, double, PORT=str(p)), "web") for p in ports]
            clocks = [await _pulse(_env(db_url, double), "clock") for _ in range(2)]
            procs = [*webs, *clocks]
            out = [Output(p) for p in procs]
            async with aiohttp.ClientSession() as http:

                async def webs_up() -> bool:
                    try:
                        for port in ports:
                            async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                                if resp.status != 200:
                                    return False
                    except aiohttp.ClientError:
                        return False
                    return True

                await _until(webs_up, 60, "both web processes answer /healthz")
                await _until(lambda: out[2].says("now schedules") or out[3].says("now schedules"), 60, "a clock leads")

                # A round sent by `pulse rounds open` while the leading clock's outbox drains it too.
                cli = await _pulse(_env(db_url, double, PULSE_SEND_CONCURRENCY="2"), "rounds", "open", str(survey))
                await asyncio.wait_for(cli.communicate(), 120)

                async def all_sent() -> bool:
                    async with db.session() as session:
                        return await repo.unfinished_deliveries(session) == 0

                await _until(all_sent, 60, "every delivery sent")
                assert Counter(m["channel"] for m in round_messages(double)) == dict.fromkeys(CHANNELS, 1)
                await assert_rows_match_messages(db, double)
                assert within_budget(double, Rate(PER_SECOND, BURST))

                # One person clicks six times, in turn through each web: the last click stands.
                options = next(iter(buttons_of(double.messages_in(CHANNELS[0])[0]).values()))
                base = time.time()
                for n in range(6):
                    body = _click(options[n % len(options)], CHANNELS[0], base + n * 0.01, double)
                    url = f"http://127.0.0.1:{ports[n % 2]}/slack/events"
                    async with http.post(url, data=body.encode(), headers=signed_headers(body)) as resp:
                        assert resp.status == 200
                await _until(lambda: len(double.ephemerals) >= 6, 30, "six confirmations")
                async with db.session() as session:
                    stored = (await session.scalars(select(HeldAnswer.option))).all()
                assert stored == [json.loads(str(options[5 % len(options)]["value"]))["o"]]

            # The leading clock dies; the other one takes over.
            leader = 2 if out[2].says("now schedules") else 3
            other = 5 - leader
            assert not out[other].says("now schedules")
            procs[leader].send_signal(signal.SIGKILL)
            await procs[leader].wait()
            await _until(lambda: out[other].says("now schedules"), 30, "the other clock takes over")
        finally:
            for p in procs:
                if p.returncode is None:
                    p.send_signal(signal.SIGTERM)
            for p in procs:
                try:
                    await asyncio.wait_for(p.wait(), 15)
                except TimeoutError:
                    p.kill()
