"""`pulse ...` typed to the bot (in a channel, after mentioning it): the same parser and the same
command runner as Slack's /pulse, with Teams' own way of drawing the outcome."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from microsoft_agents.activity import ActivityTypes, AdaptiveCardInvokeResponse
from microsoft_agents.hosting.core import RouteRank, TurnContext, TurnState
from pydantic import ValidationError

from bot.commands.execute import Caller, Commands, ConfirmClose, ConfirmDelete, OpenForm, Outcome, Reply, ShowDigest
from bot.commands.forms import FormErrors, SurveyForm
from bot.commands.parser import UsageError, parse
from bot.teams import cards
from bot.teams.exchange import TeamsExchange
from bot.teams.ids import channel_of, conversation_key, person_of
from bot.teams.messages import card_message, invoke_card
from bot.teams.references import remember
from bot.teams.replies import (
    CLOSE_VERB,
    DELETE_VERB,
    KEEP_OPEN_VERB,
    KEEP_VERB,
    confirm_close_card,
    confirm_delete_card,
    note_card,
    teams_markdown,
)
from bot.teams.roles import TeamsDirectory
from bot.teams.survey_cards import FIX_THEM, SAVE_VERB, form_values, saved_text, survey_form_card, survey_id_of
from storage import conversations
from surveys import management

if TYPE_CHECKING:
    from bot.teams.app import TeamsBot

log = logging.getLogger(__name__)

PREFIX = "pulse"
SORRY = "Sorry, something went wrong and nothing more was done. Please try again in a minute."
RESULTS_SENT = "I have sent you the results in a private chat."
FORM_SENT = "I have sent you the survey form in a private chat."
SAVE_SORRY = "Sorry, the survey could not be saved just now. Please try again."
# Where surveys can go: conversations with more than one person in them.
SHARED_KINDS = ("channel", "groupChat")


def invalid_fields(exc: ValidationError) -> dict[str, str]:
    return {str(e["loc"][0]) if e["loc"] else "name": "This value is not valid here." for e in exc.errors()}


def caller_of(activity: Any) -> Caller:
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = (channel_data.get("tenant") or {}).get("id") or activity.conversation.tenant_id
    # A JPD invitation goes to the channel or group chat the command was typed in, never a 1:1 chat.
    shared = (activity.conversation.conversation_type or "personal") in SHARED_KINDS
    channel = conversation_key(channel_of(activity)) if shared else None
    return Caller(person_of(activity), str(tenant) if tenant else None, channel)


def register(bot: TeamsBot) -> None:
    ctx = bot.ctx

    def commands_for(activity: Any) -> Commands:
        directory = TeamsDirectory(ctx.settings, bot.platform, activity)
        # Teams' own platform, so surveys set up from here are Teams surveys even next to Slack.
        exchanges = TeamsExchange(bot.platform) if bot.platform is not None else None
        return Commands(ctx, directory, bot.platform or ctx.platform, prefix=PREFIX, exchanges=exchanges)

    async def installed_in(tenant: str | None) -> dict[str, str]:
        """Conversations of this tenant where the app is installed: key -> name."""
        async with ctx.db.session() as session:
            rows = await conversations.teams_conversations(session)
        return {
            r.key: r.name or r.key
            for r in rows
            if r.kind in SHARED_KINDS and (tenant is None or r.tenant_id in (None, tenant))
        }

    async def privately(context: TurnContext, content: cards.Card, summary: str, said: str) -> None:
        """Send a card for the asker alone: in a 1:1 chat, or into one from a channel."""
        if (context.activity.conversation.conversation_type or "personal") == "personal":
            await context.send_activity(card_message(content, summary))
        elif bot.platform is not None:
            # A channel reply would show it to everyone.
            await bot.platform.send_privately(context.activity, card_message(content, summary))
            await context.send_activity(said)

    async def show(context: TurnContext, outcome: Outcome) -> None:
        match outcome:
            case Reply(text=reply):
                await context.send_activity(teams_markdown(reply))
            case OpenForm(form=form, survey_id=sid):
                places = await installed_in(caller_of(context.activity).workspace_id)
                content = survey_form_card(form, banks=list(ctx.banks), conversations=places, survey_id=sid)
                await privately(context, content, "Pulse: survey form", FORM_SENT)
            case ConfirmDelete(survey_id=sid, name=name):
                await context.send_activity(card_message(confirm_delete_card(sid, name)))
            case ConfirmClose(survey_id=sid, name=name, round_id=rid, seq=seq):
                await context.send_activity(card_message(confirm_close_card(sid, name, rid, seq)))
            case ShowDigest(digest=digest):
                content = cards.fitting_digest_card(digest)
                await privately(context, content, f"Results: {digest.survey_name}", RESULTS_SENT)

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

    async def form_for(survey_id: int | None, caller: Caller) -> SurveyForm:
        if survey_id is not None:
            async with ctx.db.session() as session:
                existing = await management.find_survey(session, survey_id, caller.workspace_id)
            if existing is not None:
                return SurveyForm.from_survey(existing)
        return SurveyForm()

    @bot.app.adaptive_card.action_execute(SAVE_VERB)
    async def on_save_survey(context: TurnContext, state: TurnState, data: Any) -> AdaptiveCardInvokeResponse:
        data = data if isinstance(data, dict) else {}
        caller = caller_of(context.activity)
        survey_id = survey_id_of(data)
        raw = form_values(data)
        try:
            places = await installed_in(caller.workspace_id)
            try:
                form = SurveyForm.model_validate(raw)
                result = await commands_for(context.activity).save_form(form, survey_id, caller, labels=places)
            except (FormErrors, ValidationError) as exc:
                errors = exc.errors if isinstance(exc, FormErrors) else invalid_fields(exc)
                # Nothing saved: the form as it was sent (over an edit's kept schedule), problems marked.
                shown = (await form_for(survey_id, caller)).model_copy(update=raw)
                content = survey_form_card(
                    shown,
                    banks=list(ctx.banks),
                    conversations=places,
                    survey_id=survey_id,
                    errors=errors,
                    status=FIX_THEM,
                )
                return invoke_card(content)
        except Exception as exc:
            log.error("teams survey save failed: %s", type(exc).__name__)
            return invoke_card(note_card(SAVE_SORRY))
        if isinstance(result, Reply):
            return invoke_card(note_card(result.text))
        return invoke_card(note_card(saved_text(result.survey_id, result.created, result.summary, PREFIX)))

    @bot.app.adaptive_card.action_execute(CLOSE_VERB)
    async def on_close(context: TurnContext, state: TurnState, data: Any) -> AdaptiveCardInvokeResponse:
        survey_id, round_id = (data or {}).get("s"), (data or {}).get("r")
        if not isinstance(survey_id, int) or not isinstance(round_id, int):
            return invoke_card(note_card("That button is out of date; nothing was closed."))
        try:
            reply = await commands_for(context.activity).close_confirmed(
                survey_id, round_id, caller_of(context.activity)
            )
        except Exception as exc:
            log.error("teams close failed: %s", type(exc).__name__)
            return invoke_card(note_card(SORRY))
        return invoke_card(note_card(reply.text))

    @bot.app.adaptive_card.action_execute(KEEP_OPEN_VERB)
    async def on_keep_open(context: TurnContext, state: TurnState, data: Any) -> AdaptiveCardInvokeResponse:
        return invoke_card(note_card(f"Kept the round of survey {(data or {}).get('s')} open; nothing was closed."))

    @bot.app.adaptive_card.action_execute(KEEP_VERB)
    async def on_keep(context: TurnContext, state: TurnState, data: Any) -> AdaptiveCardInvokeResponse:
        return invoke_card(note_card(f"Kept survey {(data or {}).get('s')}; nothing was deleted."))
