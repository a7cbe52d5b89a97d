"""A sending process for the crash tests: drains the outbox until nothing is left, like the clock.

    python -m tests.reliability.sender_proc --db URL --api http://127.0.0.1:PORT/api/ [--lease 2]

It is the real sender and the real Slack adapter, run as its own process so a test can kill it
with SIGKILL at any moment and start another. Budgets are set high: the double's limits and
faults, not this process, decide the pace.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.platform import SlackBudget, SlackPlatform
from storage import repo
from storage.db import Database
from surveys.banks import BankRegistry
from surveys.pacing import Rate, RetryPolicy
from surveys.sending import SendOptions, drain


async def main(args: argparse.Namespace) -> int:
    db = Database(args.db)
    fast = Rate(5000.0, 500)
    platform = SlackPlatform(
        AsyncWebClient(token="xoxb-test", base_url=args.api),
        # No request outlives the margin at the end of a claim (see SendOptions.lease_margin).
        budget=SlackBudget(post_per_channel=fast, post_workspace=fast, tier3=fast, timeout=args.lease / 2),
    )
    options = SendOptions(
        concurrency=args.concurrency,
        lease=dt.timedelta(seconds=args.lease),
        lease_margin=dt.timedelta(seconds=args.lease / 2),
        retry=RetryPolicy(base=0.05, cap=0.5),
        inline_wait=5.0,
    )
    banks = BankRegistry.load(None)
    try:
        while True:
            report = await drain(db, platform, banks, options=options)
            print(f"drained: {report.sent} sent, {report.recovered} recovered, {report.failed} failed", flush=True)
            async with db.session() as session:
                left = await repo.unfinished_deliveries(session)
                due = await repo.next_delivery_due(session)
            if left == 0:
                return 0
            # Wait for the next retry or lapsing claim, as the clock's outbox job would.
            wait = (due - dt.datetime.now(dt.UTC)).total_seconds() if due else 0.5
            await asyncio.sleep(min(1.0, max(0.05, wait)))
    finally:
        await db.dispose()


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    p.add_argument("--db", required=True)
    p.add_argument("--api", required=True)
    p.add_argument("--lease", type=float, default=4.0)
    p.add_argument("--concurrency", type=int, default=32)
    return p.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse(sys.argv[1:]))))
