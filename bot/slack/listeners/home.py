"""The App Home tab: published when someone opens it, and again after a button there is used.

Staff see what is open for them and what they answered (looked up from their respondent keys at
this moment, shown to them alone); coordinators see their surveys with buttons; leaders see the
latest digest of the surveys whose digest channel they are in.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.commands.execute import Caller
from bot.context import Context
from bot.slack.blocks import Block
from bot.slack.digest_blocks import digest_blocks
from bot.slack.roles import GroupCache, SlackDirectory
from bot.slack.views import flatten, home_view
from surveys import management, operations
from surveys.anonymity import DEFAULT_K, effective_k
from surveys.participant import open_rounds_for

log = logging.getLogger(__name__)


async def publish_home(
    ctx: Context, client: AsyncWebClient, groups: GroupCache, caller: Caller, *, notice: str | None = None
) -> None:
    directory = SlackDirectory(client, ctx.settings, groups)
    now = ctx.clock()
    async with ctx.db.session() as session:
        surveys = await management.surveys_in(session, caller.workspace_id)
    facts = await directory.facts(caller, [])
    answering = await directory.audience_of(caller.user_id, surveys)
    leading = [s for s in surveys if caller.user_id in await directory.channel_members(s.digest_channel)]
    async with ctx.db.session() as session:
        rounds = await open_rounds_for(session, ctx.banks, ctx.secret, caller.user_id, answering, now=now)
        statuses = None
        if facts.is_coordinator:
            statuses = [await management.status_of(session, s, now=now, loaded=ctx.banks) for s in surveys]
    digests: list[tuple[str, list[Block]]] = []
    for survey in leading:
        digest = await operations.digest_for(ctx.db, ctx.banks, survey.id, now=now)
        digests.append((survey.name, flatten(digest_blocks(digest))))
    k = min((effective_k(s.k) for s in answering), default=DEFAULT_K)
    view = home_view(rounds=rounds, k=k, surveys=statuses, digests=digests, notice=notice)
    await client.views_publish(user_id=caller.user_id, view=view)


def register(app: AsyncApp, ctx: Context, groups: GroupCache) -> None:
    @app.event("app_home_opened")
    async def on_home_opened(event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        caller = Caller(str(event["user"]), str(body.get("team_id") or "") or None)
        try:
            await publish_home(ctx, client, groups, caller)
        except Exception as exc:
            # The event carries who opened it: log the error's type only.
            log.error("publishing App Home failed: %s", type(exc).__name__)
