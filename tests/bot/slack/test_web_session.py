"""`pulse serve` keeps one HTTP connection pool for its Slack Web API calls, and closes it on the way out.

Without it slack_sdk opens a new session, and a new TCP connection, for every call: every
click's private confirmation, every message of a fan-out.
"""

from __future__ import annotations

import asyncio

from bot.slack.platform import SlackPlatform
from tests.harness import Harness
from tests.slack_double import SlackDouble


async def test_one_pool_from_startup_to_cleanup_shared_by_bolt_and_the_sender(db_url: str) -> None:
    async with SlackDouble(channels={"C0SCHOOLA": {"members": ["UA1"]}}) as double:
        app = Harness(db_url, double=double)
        await app.start()
        try:
            session = app.slack_app.client.session
            assert session is not None and not session.closed
            # The sender's calls go through the same connections (with its own timeout).
            platform = app.ctx.require_platform()
            assert isinstance(platform, SlackPlatform)
            double.faults.slow("conversations.history", 0.5)
            look = asyncio.create_task(platform.find_delivery("C0SCHOOLA", 1))
            await app.wait_for(lambda: double.in_flight > 0 or look.done())
            sender = platform._sender.session
            assert sender is not None and sender.connector is session.connector
            assert await look is None
        finally:
            await app.stop()
        assert session.closed
        assert app.slack_app.client.session is None
