"""Running the product: HTTP (or Socket Mode) and the clock, until told to stop."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import TYPE_CHECKING

from aiohttp import web as aioweb

from bot.context import Context
from bot.logs import configure_logging
from bot.scheduler import LeadingClock
from bot.server import build_web_app
from bot.settings import Settings
from bot.slack.app import build_slack_app
from bot.slack.oauth import slack_platform
from storage.migrate import upgrade

if TYPE_CHECKING:
    from bot.teams.app import TeamsBot

log = logging.getLogger("pulse")


def build_context(settings: Settings) -> Context:
    ctx = Context.from_settings(settings)
    for problem in ctx.banks.refused:
        log.warning("custom bank refused: %s", problem)
    return ctx


def wire_teams(ctx: Context) -> TeamsBot:
    """Teams next to Slack (or alone): its app for /api/messages, and its sends for the clock."""
    from bot.teams.app import TeamsBot
    from bot.teams.platform import TeamsPlatform, default_chart
    from bot.teams.router import PlatformRouter

    bot = TeamsBot(ctx)
    teams_platform = TeamsPlatform(bot, chart=default_chart())
    s = ctx.settings
    slack_too = s.slack_bot_token is not None or bool(getattr(s, "slack_oauth_enabled", False))
    ctx.platform = PlatformRouter(ctx.platform, teams_platform) if slack_too and ctx.platform else teams_platform
    log.info("Microsoft Teams: POST /api/messages, authentication %s", "on" if bot.auth.enabled else "OFF")
    return bot


async def serve(settings: Settings, *, web: bool = True, clock: bool = True) -> None:
    configure_logging(settings.log_level)
    if clock:
        # The single scheduling process keeps the schema current; extra web processes do not race it.
        await asyncio.to_thread(upgrade, settings.database_url)
    ctx = build_context(settings)
    # Teams alone (no Slack token, no signing secret) runs without a Slack app at all.
    slack_on = not settings.teams_enabled or settings.slack_signing_secret is not None
    slack_app = build_slack_app(ctx) if slack_on else None
    ctx.platform = slack_platform(settings, ctx.db, slack_app) if slack_app is not None else None
    teams = wire_teams(ctx) if settings.teams_enabled else None
    the_clock = LeadingClock(ctx) if clock else None

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    runner = None
    socket_handler = None
    if web:
        runner = aioweb.AppRunner(build_web_app(ctx, slack_app, clock=the_clock, teams=teams), access_log=None)
        await runner.setup()
        await aioweb.TCPSite(runner, settings.host, settings.port).start()
        everywhere = ""
        if settings.host == "0.0.0.0":
            everywhere = " (every interface: HOST=127.0.0.1 listens only on this machine)"
        log.info("listening on %s:%s%s", settings.host, settings.port, everywhere)
    elif the_clock is not None:
        the_clock.start()
    if settings.slack_app_token is not None and slack_app is not None:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        socket_handler = AsyncSocketModeHandler(slack_app, settings.slack_app_token.get_secret_value())
        await socket_handler.connect_async()  # type: ignore[no-untyped-call]
        log.info("connected to Slack in Socket Mode")
    await stop.wait()
    log.info("shutting down")
    if socket_handler is not None:
        await socket_handler.close_async()  # type: ignore[no-untyped-call]
    if runner is not None:
        await runner.cleanup()
    elif the_clock is not None:
        await the_clock.stop()
        await ctx.db.dispose()
