"""Two senders, one workspace budget: the rate is kept together, through the database.

Each sender has its own engine and Slack client, as two processes would, and paces itself
generously; only the budget in the database (storage/budgets.py) holds them to the workspace's
rate. Without it the same two senders go at twice the rate, so the check can fail.
"""

from __future__ import annotations

import asyncio

from bot.slack.platform import SlackPlatform
from storage.db import Database
from surveys.banks import BankRegistry
from surveys.pacing import Rate, SharedRate
from surveys.sending import drain
from tests.reliability.conftest import add_survey, assert_rows_match_messages, fast_budget, open_only, options
from tests.slack_double import SlackDouble

CHANNELS = [f"C0BUD{n:03d}" for n in range(40)]
RATE = Rate(10.0, 2)


def busiest(double: SlackDouble, window: float) -> int:
    """The most posts Slack received in any window of `window` seconds."""
    times = sorted(c.at for c in double.calls_to("chat.postMessage") if c.ok)
    most, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= window:
            start += 1
        most = max(most, end - start + 1)
    return most


def within_budget(double: SlackDouble, rate: Rate) -> bool:
    """At most rate + burst in any two seconds, give or take one post: a slot is reserved to the
    millisecond, but the post reaches Slack a little later or sooner (event loops, HTTP), so two
    posts a slot apart can land closer together than that."""
    return busiest(double, 2.0) <= 2 * rate.per_second + rate.burst + 1


async def _two_senders(db_url: str, db: Database, banks: BankRegistry, *, shared: bool) -> SlackDouble:
    double = SlackDouble(channels={c: {"name": c.lower(), "members": ["UL0001"]} for c in CHANNELS})
    async with double:
        await open_only(
            db, banks, SlackPlatform(double.client()), await add_survey(db, audience_kind="channels", audience=CHANNELS)
        )
        dbs = [Database(db_url) for _ in range(2)]
        try:
            senders = [
                SlackPlatform(
                    double.client(),
                    # Each alone would post at the whole workspace rate.
                    budget=fast_budget(post_workspace=RATE),
                    shared_posts=SharedRate(d, "slack:posts:T0TEST", RATE) if shared else None,
                )
                for d in dbs
            ]
            reports = await asyncio.gather(
                *(drain(d, p, banks, options=options(concurrency=8)) for d, p in zip(dbs, senders, strict=True))
            )
        finally:
            for d in dbs:
                await d.dispose()
        assert sum(r.sent for r in reports) == len(CHANNELS) and all(r.sent for r in reports)
        await assert_rows_match_messages(db, double)
    return double


async def test_two_senders_keep_one_workspace_budget_together(db_url: str, db: Database, banks: BankRegistry) -> None:
    double = await _two_senders(db_url, db, banks, shared=True)
    # The rate, plus the burst the budget allows after a quiet spell.
    assert within_budget(double, RATE)


async def test_without_the_shared_budget_two_senders_go_over_it(db_url: str, db: Database, banks: BankRegistry) -> None:
    double = await _two_senders(db_url, db, banks, shared=False)
    assert not within_budget(double, RATE)
