"""Which chat platform sends a JPD exchange's messages, from the process's own wiring.

An exchange remembers the platform it was opened on and its scope (the workspace, with OAuth
installs); the clock asks here for the adapter that reaches it.
"""

from __future__ import annotations

from bot.context import Context
from storage.models import JpdExchange
from surveys.jpd.notices import ExchangePlatform
from surveys.platform import PlatformError


async def exchange_platform(ctx: Context, exchange: JpdExchange) -> ExchangePlatform:
    return await platform_for(ctx, exchange.platform, exchange.scope, home=exchange.channel)


async def platform_for(ctx: Context, name: str, scope: str, *, home: str | None = None) -> ExchangePlatform:
    from bot.slack.exchange import SlackExchange
    from bot.slack.oauth import InstalledWorkspaces
    from bot.slack.platform import SlackPlatform

    # Slack beside Teams: the router's primary is Slack's.
    slack = getattr(ctx.platform, "primary", ctx.platform)
    if name == "slack":
        if isinstance(slack, SlackPlatform):
            return SlackExchange(slack.client)
        if isinstance(slack, InstalledWorkspaces):
            return SlackExchange((await slack.for_workspace(scope)).client)
    if name == "teams":
        from bot.teams.exchange import TeamsExchange
        from bot.teams.platform import TeamsPlatform

        teams = getattr(ctx.platform, "teams", ctx.platform)
        if isinstance(teams, TeamsPlatform):
            return TeamsExchange(teams, home=home)
    raise PlatformError(f"{name}: not set up in this process", transient=True)
