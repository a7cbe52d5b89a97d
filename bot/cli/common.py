"""What every CLI command shares: the error type and the Slack platform for sending."""

from __future__ import annotations

from pydantic import ValidationError

from bot.context import Context
from surveys.platform import ChatPlatform


class CliError(Exception):
    """A mistake the user can fix: printed as one line, exit status 1."""


def config_error(exc: ValidationError) -> CliError:
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or "survey"
    return CliError(f"{field}: {first['msg']}")


def slack_platform(ctx: Context) -> ChatPlatform:
    from bot.slack.platform import SlackPlatform, make_client

    s = ctx.settings
    if s.slack_bot_token is None:
        raise CliError("SLACK_BOT_TOKEN is not set (needed to send to Slack)")
    return SlackPlatform(make_client(s.slack_bot_token.get_secret_value(), s.api_base_url))
