"""`pulse ...` typed to the bot (in a channel, after mentioning it): the same parser and the same
command runner as Slack's /pulse, with Teams' own way of drawing the outcome."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from microsoft_agents.activity import ActivityTypes, AdaptiveCardInvokeResponse
from microsoft_agents.hosting.core import RouteRank, TurnContext, TurnState

from bot.commands.execute import Caller, Commands, ConfirmDelete, OpenForm, Outcome, Reply, ShowDigest
from bot.commands.parser import UsageError, parse
from bot.teams import cards
from bot.teams.ids import person_of
from bot.teams.messages import card_message, invoke_card
from bot.teams.references import remember
from bot.teams.replies import DELETE_VERB, KEEP_VERB, confirm_delete_card, note_card, teams_markdown
from bot.teams.roles import TeamsDirectory

if TYPE_CHECKING:
    from bot.teams.app import TeamsBot

log = logging.getLogger(__name__)

PREFIX = "pulse"
SORRY = "Sorry, something went wrong and nothing more was done. Please try again in a minute."
NO_FORM = (
    "The survey form is not available in Teams yet. Set surveys up with `pulse surveys create` on the "
    "command line (Teams surveys name their channels by the keys `pulse help` shows), or in Slack."
)
RESULTS_SENT = "I have sent you the results in a private chat."


def caller_of(activity: Any) -> Caller:
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = (channel_data.get("tenant") or {}).get("id") or activity.conversation.tenant_id
    return Caller(person_of(activity), str(tenant) if tenant else None)


def register(bot: TeamsBot) -> None:
    ctx = bot.ctx

    def commands_for(activity: Any) -> Commands:
        directory = TeamsDirectory(ctx.settings, bot.platform, activity)
        # Teams' own platform, so surveys set up from here are Teams surveys even next to Slack.
        return Commands(ctx, directory, bot.platform or ctx.platform, prefix=PREFIX)

    async def show(context: TurnContext, outcome: Outcome) -> None:
        match outcome:
            case Reply(text=reply):
                await context.send_activity(teams_markdown(reply))
            case OpenForm():
                await context.send_activity(NO_FORM)
            case ConfirmDelete(survey_id=sid, name=name):
                await context.send_activity(card_message(confirm_delete_card(sid, name)))
            case ShowDigest(digest=digest):
                content = cards.fitting_digest_card(digest)
                if (context.activity.conversation.conversation_type or "personal") == "personal":
                    await context.send_activity(card_message(content))
                elif bot.platform is not None:
                    # Results are for the asker alone; a channel reply would show them to everyone.
                    await bot.platform.send_privately(context.activity, card_message(content))
                    await context.send_activity(RESULTS_SENT)

    @bot.app.activity(ActivityTypes.message, rank=RouteRank.LAST)
    async def on_message(context: TurnContext, state: TurnState) -> None:
        activity = context.activity
        # Any message to the bot refreshes how to reach this conversation; a mention in a channel
        # is how it learns channels other than the team's first one.
        key = await remember(ctx.db, activity, ctx.clock())
        text = (activity.text or "").strip()
        if not text:
            return
        try:
            command = parse(text)
        except UsageError as exc:
            exc.prefix = PREFIX
            await context.send_activity(teams_markdown(exc.message))
            return
        try:
            outcome = await commands_for(activity).run(command, caller_of(activity))
        except Exception as exc:
            log.error("teams command %s failed: %s", command.verb, type(exc).__name__)
            await context.send_activity(SORRY)
            return
        if command.verb == "help" and isinstance(outcome, Reply) and not getattr(command, "topic", None):
            outcome = Reply(outcome.text + f"\nThis conversation's key, for survey audiences: *{key}*")
        await show(context, outcome)

    @bot.app.adaptive_card.action_execute(DELETE_VERB)
    async def on_delete(context: TurnContext, state: TurnState, data: Any) -> AdaptiveCardInvokeResponse:
        survey_id = (data or {}).get("s")
        if not isinstance(survey_id, int):
            return invoke_card(note_card("That button is out of date; nothing was deleted."))
        try:
            reply = await commands_for(context.activity).delete_confirmed(survey_id, caller_of(context.activity))
        except Exception as exc:
            log.error("teams delete failed: %s", type(exc).__name__)
            return invoke_card(note_card(SORRY))
        return invoke_card(note_card(reply.text))

    @bot.app.adaptive_card.action_execute(KEEP_VERB)
    async def on_keep(context: TurnContext, state: TurnState, data: Any) -> AdaptiveCardInvokeResponse:
        return invoke_card(note_card(f"Kept survey {(data or {}).get('s')}; nothing was deleted."))
