"""Who the bot is, for Bolt, in single-workspace token mode: requests are still answered while
Slack's API cannot be reached.

Bolt's own single-team authorization calls auth.test before the first request is handled and
lets a connection error escape, so `/pulse help` came back as a bare HTTP 500 whenever the API was
unreachable. This asks auth.test once and keeps the answer; until Slack answers, each request is
authorized from the configured token alone (Pulse's listeners do not need the bot's own ids), and
the listener's ack still reaches the person. A token Slack refuses (SlackApiError) is still
refused by Bolt, with its own message.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import aiohttp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

AUTH_TIMEOUT = 2  # seconds (slack_sdk takes whole ones)


def single_workspace(token: str) -> Callable[..., Awaitable[AuthorizeResult]]:
    known: list[AuthorizeResult] = []  # auth.test's answer, once Slack has given it

    async def authorize(
        enterprise_id: str | None, team_id: str | None, user_id: str | None, client: AsyncWebClient
    ) -> AuthorizeResult:
        if not known:
            # Before the ack, so quick or not at all: no retries, and well inside Slack's 3 s.
            checker = AsyncWebClient(token=token, base_url=client.base_url, timeout=AUTH_TIMEOUT, retry_handlers=[])
            try:
                who = await checker.auth_test()
            except (TimeoutError, aiohttp.ClientError) as exc:
                log.warning("Slack's API could not be reached to check the bot token (%s)", type(exc).__name__)
                return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, user_id=user_id, bot_token=token)
            known.append(
                AuthorizeResult(
                    enterprise_id=who.get("enterprise_id"),
                    team_id=who.get("team_id"),
                    bot_id=who.get("bot_id"),
                    bot_user_id=who.get("user_id"),
                    bot_token=token,
                    bot_scopes=who.headers.get("x-oauth-scopes"),
                )
            )
        bot = known[0]
        return AuthorizeResult(
            enterprise_id=bot.enterprise_id,
            team_id=bot.team_id,
            bot_id=bot.bot_id,
            bot_user_id=bot.bot_user_id,
            bot_token=token,
            bot_scopes=bot.bot_scopes,
            user_id=user_id,
        )

    return authorize
