"""The sender killed with SIGKILL halfway through a DM fan-out, then started again.

The sender runs as a real process (tests/reliability/sender_proc.py) against the Slack double in
this process; the double injects 429s throughout. Whatever the moment of the kill, when the
restarted sender is done every person has exactly one message and every row says so.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from storage.db import Database
from surveys.banks import BankRegistry
from tests.reliability.conftest import (
    GROUP,
    LEADERS,
    add_survey,
    assert_exactly_once,
    assert_rows_match_messages,
    deliveries,
    open_only,
    platform_for,
    round_messages,
    staff,
)
from tests.slack_double import SlackDouble

ROOT = Path(__file__).resolve().parents[2]


async def _start_sender(db_url: str, double: SlackDouble) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.reliability.sender_proc",
        "--db",
        db_url,
        "--api",
        double.api_url,
        "--lease",
        "4",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


async def _kill_midway(proc: asyncio.subprocess.Process, double: SlackDouble, at: int) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while len(round_messages(double)) < at:
        if proc.returncode is not None or loop.time() > deadline:
            _, err = await proc.communicate()
            pytest.fail(f"the sender ended before it could be killed: {err.decode()[-2000:]}")
        await asyncio.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    await proc.wait()
    assert proc.returncode == -signal.SIGKILL
    # Requests the sender had already put on the wire still land; let them, before counting.
    await asyncio.sleep(0.3)


async def _fan_out_with_a_kill(db_url: str, db: Database, banks: BankRegistry, people: int) -> dict[str, int]:
    users = staff(people)
    double = SlackDouble(usergroups={GROUP: users}, channels={LEADERS: {"members": ["UL0001"]}})
    async with double:
        await open_only(db, banks, platform_for(double), await add_survey(db))
        double.faults.random_429("chat.postMessage", 0.05, seed=3, retry_after=1)

        first = await _start_sender(db_url, double)
        await _kill_midway(first, double, people // 2)
        rows = await deliveries(db)
        posted = {m["metadata"]["event_payload"]["delivery"] for m in round_messages(double)}
        state = {
            "posted": len(posted),
            "unfinished": sum(d.status in ("pending", "sending") for d in rows),
            "claimed": sum(d.status == "sending" for d in rows),
            "posted_not_marked": sum(d.status == "sending" and d.id in posted for d in rows),
        }
        assert 0 < state["posted"] < people and state["unfinished"] > 0
        opened_before = _opened(double)

        second = await _start_sender(db_url, double)
        out, err = await asyncio.wait_for(second.communicate(), timeout=120)
        assert second.returncode == 0, err.decode()[-2000:]

        assert_exactly_once(double, users)
        await assert_rows_match_messages(db, double)
        lines = [line.split() for line in out.decode().splitlines() if line.startswith("drained:")]
        state["recovered_after_restart"] = sum(int(words[3]) for words in lines)
        # Sending opens no DM (posts go to user ids; a 429 is never looked up). The restarted
        # sender knows no DM ids, so it opens one for each delivery it must look for, and no more.
        state["opened_before_kill"] = opened_before
        state["opened_after_restart"] = _opened(double) - opened_before
        print(f"\nSIGKILL with {state}")
        return state


def _opened(double: SlackDouble) -> int:
    return sum(1 for call in double.calls_to("conversations.open") if call.ok)


@pytest.mark.slow
async def test_a_sender_killed_mid_fan_out_leaves_no_one_out_and_no_one_twice(
    db_url: str, db: Database, banks: BankRegistry
) -> None:
    state = await _fan_out_with_a_kill(db_url, db, banks, 300)
    assert state["claimed"] > 0  # the kill caught deliveries in flight
    # Those already posted were found again, not posted twice.
    assert state["recovered_after_restart"] == state["posted_not_marked"]
    # Each claimed row is looked for in its DM, which the new process has to open.
    assert 0 < state["opened_after_restart"] <= state["claimed"]


@pytest.mark.slow
async def test_two_thousand_dms_with_429s_and_a_sigkill(db_url: str, db: Database, banks: BankRegistry) -> None:
    state = await _fan_out_with_a_kill(db_url, db, banks, 2000)
    assert state["claimed"] > 0
    assert state["recovered_after_restart"] == state["posted_not_marked"]
    assert 0 < state["opened_after_restart"] <= state["claimed"]
