"""The app added to or removed from a team, group chat or personal scope: keep the reference."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from microsoft_agents.activity import ActivityTypes
from microsoft_agents.hosting.core import TurnContext, TurnState

from bot.teams.references import forget, remember

if TYPE_CHECKING:
    from bot.teams.app import TeamsBot

log = logging.getLogger(__name__)

GREETING = (
    "Hello! **Pulse Audit** is installed here. It posts short, anonymous trust pulses that take one click "
    "to answer, and a digest for leaders. Nobody — not even the people who run it — can see who answered what.\n\n"
    "Coordinators: this conversation's key is **{key}**; name it as a channel when you set up a survey. "
    "Type `pulse help` (in a channel, mention me first) for the commands."
)


def register(bot: TeamsBot) -> None:
    ctx = bot.ctx

    def _bot_among(context: TurnContext, members: list | None) -> bool:  # type: ignore[type-arg]
        me = context.activity.recipient.id if context.activity.recipient else None
        return any(m.id == me for m in members or [])

    @bot.app.activity(ActivityTypes.conversation_update)
    async def on_conversation_update(context: TurnContext, state: TurnState) -> None:
        activity = context.activity
        if _bot_among(context, activity.members_added):
            key = await remember(ctx.db, activity, ctx.clock())
            log.info("teams: installed in a %s conversation", activity.conversation.conversation_type)
            await context.send_activity(GREETING.format(key=key))
        elif _bot_among(context, activity.members_removed):
            await forget(ctx.db, activity, ctx.clock())
            log.info("teams: removed from a %s conversation", activity.conversation.conversation_type)

    @bot.app.activity(ActivityTypes.installation_update)
    async def on_installation_update(context: TurnContext, state: TurnState) -> None:
        # Teams sends this alongside conversationUpdate; the greeting is sent only once, there.
        action = str(context.activity.action or "")
        if action.startswith("add"):
            await remember(ctx.db, context.activity, ctx.clock())
        elif action.startswith("remove"):
            await forget(ctx.db, context.activity, ctx.clock())
