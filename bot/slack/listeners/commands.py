"""The /pulse slash command and the buttons that run its commands (delete confirmation, App Home).

Ack first, then parse, run through bot.commands (role check, domain) and draw the outcome:
an ephemeral reply, the survey modal, a delete confirmation or a digest shown only to the caller.
Any failure reaches the person as one short sentence; the log gets the error's type only.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.commands.execute import (
    Caller,
    Commands,
    ConfirmClose,
    ConfirmDelete,
    OpenForm,
    Outcome,
    Reply,
    ShowDigest,
)
from bot.commands.parser import UsageError, parse
from bot.context import Context
from bot.slack.blocks import esc
from bot.slack.digest_blocks import digest_blocks
from bot.slack.exchange import SlackExchange
from bot.slack.listeners.home import publish_home
from bot.slack.roles import GroupCache, SlackDirectory
from bot.slack.views import (
    ACTION_PREFIX,
    CLOSE_CONFIRMED,
    CLOSE_KEPT,
    DELETE_CONFIRMED,
    DELETE_KEPT,
    close_confirmation,
    delete_confirmation,
    flatten,
    survey_modal,
)

log = logging.getLogger(__name__)

SORRY = "Sorry, something went wrong and nothing more was done. Please try again in a minute."
MAX_BLOCKS = 50
MAX_RESPONSES = 4  # a response_url takes five posts; keep one spare


def commands_for(ctx: Context, client: AsyncWebClient, groups: GroupCache) -> Commands:
    return Commands(
        ctx, SlackDirectory(client, ctx.settings, groups), ctx.platform, escape=esc, exchanges=SlackExchange(client)
    )


def caller_of(body: dict[str, Any]) -> Caller:
    user = body.get("user") or {}
    user_id = body.get("user_id") or user.get("id") or ""
    team = body.get("team_id") or (body.get("team") or {}).get("id") or user.get("team_id")
    channel = str(body.get("channel_id") or (body.get("channel") or {}).get("id") or "")
    # A JPD invitation goes to the channel the command was typed in, never a direct message.
    return Caller(str(user_id), str(team) if team else None, channel if channel[:1] in ("C", "G") else None)


async def usergroup_options(client: AsyncWebClient) -> list[tuple[str, str]]:
    try:
        resp = await client.usergroups_list()
    except SlackApiError:
        return []  # a free workspace has no user groups; the form simply leaves the choice out
    return [(str(g["id"]), str(g.get("handle") or g.get("name") or g["id"])) for g in resp.get("usergroups") or []]


async def open_form(ctx: Context, client: AsyncWebClient, outcome: OpenForm, trigger_id: str) -> str | None:
    """Open the survey modal; a sentence for the person if Slack would not open it."""
    view = survey_modal(
        outcome.form, banks=list(ctx.banks), usergroups=await usergroup_options(client), survey_id=outcome.survey_id
    )
    try:
        await client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as exc:
        log.warning("views.open failed: %s", exc.response.get("error") if exc.response is not None else "?")
        return "The form could not be opened in time. Please run the command again."
    return None


async def show(
    ctx: Context, outcome: Outcome, *, respond: AsyncRespond, client: AsyncWebClient, trigger_id: str
) -> None:
    match outcome:
        case Reply(text=text):
            await respond(response_type="ephemeral", text=text)
        case OpenForm():
            problem = await open_form(ctx, client, outcome, trigger_id)
            if problem:
                await respond(response_type="ephemeral", text=problem)
        case ConfirmDelete(survey_id=sid, name=name):
            await respond(
                response_type="ephemeral", text=f"Delete survey {sid}?", blocks=delete_confirmation(sid, name)
            )
        case ConfirmClose(survey_id=sid, name=name, round_id=rid, seq=seq):
            await respond(
                response_type="ephemeral",
                text=f"Close round {seq} of survey {sid}?",
                blocks=close_confirmation(sid, name, rid, seq),
            )
        case ShowDigest(digest=digest):
            blocks = flatten(digest_blocks(digest))
            chunks = [blocks[i : i + MAX_BLOCKS] for i in range(0, len(blocks), MAX_BLOCKS)][:MAX_RESPONSES]
            for chunk in chunks or [[]]:
                await respond(response_type="ephemeral", text=f"Results: {esc(digest.survey_name)}", blocks=chunk)


async def _say_sorry(respond: AsyncRespond) -> None:
    try:
        await respond(response_type="ephemeral", text=SORRY)
    except Exception as exc:
        log.error("could not even say sorry: %s", type(exc).__name__)


async def _close_button(action_id: str, value: str, caller: Caller, respond: AsyncRespond, cmds: Commands) -> None:
    """The answer to `close`'s question: the button names the survey and the round."""
    survey, _, round_ = value.partition(":")
    if not (survey.isdigit() and round_.isdigit()):
        raise UsageError("That button is out of date.")
    if action_id == CLOSE_KEPT:
        reply = Reply(f"Kept the round of survey {survey} open; nothing was closed.")
    else:
        reply = await cmds.close_confirmed(int(survey), int(round_), caller)
    await respond(response_type="ephemeral", replace_original=True, text=reply.text)


def register(app: AsyncApp, ctx: Context, groups: GroupCache) -> None:
    @app.command("/pulse")
    async def on_pulse(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient) -> None:
        await ack()
        try:
            try:
                parsed = parse(str(command.get("text") or ""))
            except UsageError as exc:
                await respond(response_type="ephemeral", text=exc.message)
                return
            outcome = await commands_for(ctx, client, groups).run(parsed, caller_of(command))
            await show(ctx, outcome, respond=respond, client=client, trigger_id=str(command.get("trigger_id") or ""))
        except Exception as exc:
            log.error("/pulse failed: %s", type(exc).__name__)
            await _say_sorry(respond)

    @app.action(re.compile(rf"^{re.escape(ACTION_PREFIX)}"))
    async def on_button(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient) -> None:
        await ack()
        caller = caller_of(body)
        in_home = (body.get("view") or {}).get("type") == "home"
        action = (body.get("actions") or [{}])[0]
        action_id = str(action.get("action_id") or "")
        try:
            value = str(action.get("value") or "")
            if action_id in (CLOSE_CONFIRMED, CLOSE_KEPT):
                await _close_button(action_id, value, caller, respond, commands_for(ctx, client, groups))
                return
            if not value.isdigit() or int(value) < 1:
                raise UsageError("That button is out of date.")
            survey_id = int(value)
            cmds = commands_for(ctx, client, groups)
            if action_id == DELETE_KEPT:
                outcome: Outcome = Reply(f"Kept survey {survey_id}; nothing was deleted.")
            elif action_id == DELETE_CONFIRMED:
                outcome = await cmds.delete_confirmed(survey_id, caller)
            else:
                verb = action_id.removeprefix(ACTION_PREFIX)
                outcome = await cmds.run(parse(f"{verb} {survey_id}"), caller)
            if isinstance(outcome, OpenForm):
                problem = await open_form(ctx, client, outcome, str(body.get("trigger_id") or ""))
                if problem is None:
                    return
                outcome = Reply(problem)
            text = outcome.text if isinstance(outcome, Reply) else None
            if in_home:
                await publish_home(ctx, client, groups, caller, notice=text)
            elif text is not None:
                await respond(response_type="ephemeral", replace_original=True, text=text)
        except UsageError as exc:
            if in_home:
                await publish_home(ctx, client, groups, caller, notice=exc.problem)
            else:
                await respond(response_type="ephemeral", text=exc.message)
        except Exception as exc:
            log.error("button %s failed: %s", action_id[:40], type(exc).__name__)
            if not in_home:
                await _say_sorry(respond)
