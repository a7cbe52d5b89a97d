"""Clocks: two running by mistake open a round once; a restarted one finishes what was left.

The database decides (the round's unique slot, the outbox's unique rows and claims), not luck:
both clocks really do run the same jobs at the same moment.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.context import Context
from bot.scheduler import Clock
from bot.settings import Settings
from bot.slack.platform import SlackPlatform
from storage import repo
from storage.db import Database
from storage.models import Round
from surveys.banks import BankRegistry
from tests.harness import ANONYMITY_SECRET, BOT_TOKEN, SIGNING_SECRET
from tests.reliability.conftest import (
    GROUP,
    add_survey,
    assert_exactly_once,
    assert_rows_match_messages,
    now,
    per_recipient,
    round_messages,
    staff,
)
from tests.slack_double import SlackDouble

ROOT = Path(__file__).resolve().parents[2]
# What a test deployment sets: short claims so a crashed sender's rows come back in seconds.
SENDING_ENV = {
    "PULSE_SEND_LEASE_SECONDS": "4",
    "PULSE_SEND_TIMEOUT_SECONDS": "2",
    "PULSE_SEND_WORKSPACE_PER_SECOND": "5000",
    "PULSE_SEND_WORKSPACE_BURST": "500",
    "PULSE_SEND_TIER3_PER_MINUTE": "300000",
}


def _settings(db_url: str, double: SlackDouble, **extra: Any) -> Settings:
    values: dict[str, Any] = {k.lower(): v for k, v in SENDING_ENV.items()}
    values.update(extra)
    return Settings(
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        pulse_anonymity_secret=ANONYMITY_SECRET.decode(),
        slack_api_url=double.api_url,
        database_url=db_url,
        pulse_banks_dir=None,
        **values,
    )


def _context(db_url: str, double: SlackDouble, banks: BankRegistry) -> Context:
    settings = _settings(db_url, double)
    ctx = Context(settings=settings, db=Database(db_url), banks=banks, secret=ANONYMITY_SECRET)
    ctx.platform = SlackPlatform(double.client(), budget=settings.slack_budget())
    return ctx


async def _unfinished(db: Database) -> int:
    async with db.session() as session:
        return await repo.unfinished_deliveries(session)


async def _round_count(db: Database) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(Round)) or 0)


async def _rounds_open(survey: int, env: dict[str, str]) -> asyncio.subprocess.Process:
    """`pulse rounds open SURVEY` in a process of its own, as an operator runs it."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from bot.cli import main; main()",
        "rounds",
        "open",
        str(survey),
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_two_clocks_by_mistake_open_the_round_once_and_send_each_delivery_once(
    db_url: str, db: Database, banks: BankRegistry, dm_double: SlackDouble
) -> None:
    survey = await add_survey(db, schedule="* * * * *")
    at = now() - dt.timedelta(seconds=1)
    contexts = [_context(db_url, dm_double, banks) for _ in range(2)]
    for ctx in contexts:
        ctx.clock = lambda: at
    clocks = [Clock(ctx) for ctx in contexts]
    try:
        # Both fire the round's job and the outbox's at once, twice over (a restart, a misfire).
        for _ in range(2):
            await asyncio.gather(*(c.open_round(survey) for c in clocks), *(c.drain() for c in clocks))
    finally:
        for ctx in contexts:
            await ctx.db.dispose()
    assert await _round_count(db) == 1
    assert_exactly_once(dm_double, staff(60))
    await assert_rows_match_messages(db, dm_double)


@pytest.mark.slow
async def test_a_restarted_clock_finishes_what_a_killed_pulse_rounds_open_left(
    db_url: str, db: Database, banks: BankRegistry
) -> None:
    users = staff(400)
    double = SlackDouble(usergroups={GROUP: users})
    async with double:
        survey = await add_survey(db)
        double.faults.slow("chat.postMessage", 0.02)
        env = {
            **os.environ,
            **SENDING_ENV,
            "PULSE_SEND_CONCURRENCY": "4",
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_API_URL": double.api_url,
            "DATABASE_URL": db_url,
            "PULSE_ANONYMITY_SECRET": ANONYMITY_SECRET.decode(),
            "PULSE_BANKS_DIR": str(ROOT / "no-custom-banks"),
            "PYTHONPATH": str(ROOT),
        }
        cli = await _rounds_open(survey, env)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while len(round_messages(double)) < len(users) // 3:
            assert cli.returncode is None, (await cli.communicate())[1].decode()[-2000:]
            assert loop.time() < deadline
            await asyncio.sleep(0.005)
        cli.send_signal(signal.SIGKILL)
        await cli.wait()
        await asyncio.sleep(0.3)
        assert 0 < len(round_messages(double)) < len(users)
        double.faults.slow("chat.postMessage", None)

        # `pulse serve` (here its clock) starts again: its outbox job finishes the round.
        ctx = _context(db_url, double, banks)
        clock = Clock(ctx)
        clock.start()
        try:
            deadline = loop.time() + 60
            # Everyone has a message, and the rows the killed process posted but never marked have
            # been looked up once their claims lapsed.
            while min(per_recipient(double, users).values()) == 0 or await _unfinished(db):
                assert loop.time() < deadline, "the restarted clock did not finish the round"
                await asyncio.sleep(0.05)
        finally:
            clock.shutdown()
            await ctx.db.dispose()
        assert_exactly_once(double, users)
        await assert_rows_match_messages(db, double)


@pytest.mark.slow
async def test_a_sender_killed_mid_fan_out_to_100_channels_is_finished_within_30_seconds(
    db_url: str, db: Database, banks: BankRegistry
) -> None:
    """At the default lease (renewed while a sender lives), not a test's short one: the rows a dead
    sender held come back in seconds, and nothing is posted twice."""
    channels = [f"C0FAN{n:04d}" for n in range(100)]
    double = SlackDouble(channels={c: {"name": c.lower(), "members": ["UL0001"]} for c in channels})
    async with double:
        survey = await add_survey(db, audience_kind="channels", audience=channels)
        double.faults.slow("chat.postMessage", 0.05)
        env = {
            **os.environ,
            "PULSE_SEND_CONCURRENCY": "8",
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_API_URL": double.api_url,
            "DATABASE_URL": db_url,
            "PULSE_ANONYMITY_SECRET": ANONYMITY_SECRET.decode(),
            "PULSE_BANKS_DIR": str(ROOT / "no-custom-banks"),
            "PYTHONPATH": str(ROOT),
        }
        env.pop("PULSE_SEND_LEASE_SECONDS", None)
        cli = await _rounds_open(survey, env)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while len(round_messages(double)) < 30:
            assert cli.returncode is None, (await cli.communicate())[1].decode()[-2000:]
            assert loop.time() < deadline
            await asyncio.sleep(0.005)
        cli.send_signal(signal.SIGKILL)
        await cli.wait()
        killed_at = loop.time()
        await asyncio.sleep(0.3)
        assert 0 < len(round_messages(double)) < len(channels)
        assert await _unfinished(db) > 0
        double.faults.slow("chat.postMessage", None)

        # The clock starts again at once, with the product's default lease.
        settings = _settings(db_url, double, pulse_send_lease_seconds=20.0, pulse_send_timeout_seconds=10.0)
        ctx = Context(settings=settings, db=Database(db_url), banks=banks, secret=ANONYMITY_SECRET)
        ctx.platform = SlackPlatform(double.client(), budget=settings.slack_budget())
        clock = Clock(ctx)
        clock.start()
        try:
            while await _unfinished(db):
                assert loop.time() - killed_at < 30, "the restarted clock did not finish within 30 s"
                await asyncio.sleep(0.1)
        finally:
            clock.shutdown()
            await ctx.db.dispose()
        took = loop.time() - killed_at
        posted = Counter(m["channel"] for m in round_messages(double))
        assert {c: posted[c] for c in channels} == dict.fromkeys(channels, 1)
        await assert_rows_match_messages(db, double)
        print(f"\nfan-out to 100 channels finished {took:.1f} s after the SIGKILL")
