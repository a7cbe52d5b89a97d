"""What every CLI command shares: the error type and the Slack platform for sending."""

from __future__ import annotations

from pydantic import ValidationError

from bot.context import Context
from surveys.platform import ChatPlatform


class CliError(Exception):
    """A mistake the user can fix: printed as one line, exit status 1."""


CHANNEL_ID_HINT = "use the channel's id (C0123ABC…, at the foot of its About tab in Slack), not its name"


def config_error(exc: ValidationError, flags: dict[str, str]) -> CliError:
    """Every problem, each named by the flag the user typed (`--items`, not items_per_round)."""
    lines = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else ""
        flag = flags.get(field, field or "the survey")
        given = error.get("input")
        if error["type"] == "string_pattern_mismatch" and flag in ("--channel", "--digest-channel"):
            why = f"'{given}' is not a channel id: {CHANNEL_ID_HINT}"
        else:
            why = str(error["msg"]).removeprefix("Value error, ")
            why = why[0].lower() + why[1:]
        lines.append(f"{flag}: {why}")
    return CliError("\npulse: ".join(lines))


def slack_platform(ctx: Context) -> ChatPlatform:
    from bot.slack.platform import SlackPlatform, make_client

    s = ctx.settings
    if s.slack_oauth_enabled:
        from bot.slack.oauth import slack_platform as installed

        return installed(s, ctx.db)
    if s.slack_bot_token is None:
        raise CliError("SLACK_BOT_TOKEN is not set (needed to send to Slack)")
    return SlackPlatform(make_client(s.slack_bot_token.get_secret_value(), s.api_base_url), budget=s.slack_budget())


def sending_platform(ctx: Context) -> ChatPlatform:
    """Slack, Teams, or both side by side (a survey's own ids say which one it uses)."""
    s = ctx.settings
    if not s.teams_enabled:
        return slack_platform(ctx)
    from bot.runner import wire_teams

    if s.slack_bot_token is not None or s.slack_oauth_enabled:
        ctx.platform = slack_platform(ctx)
    wire_teams(ctx)
    return ctx.require_platform()
