"""The Bolt AsyncApp, wired to the product's listeners."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.context import Context
from bot.slack.listeners import answers, commands
from bot.slack.platform import make_client

log = logging.getLogger(__name__)


def build_slack_app(ctx: Context) -> AsyncApp:
    s = ctx.settings
    token = s.slack_bot_token.get_secret_value() if s.slack_bot_token else ""
    secret = s.slack_signing_secret.get_secret_value() if s.slack_signing_secret else ""
    app = AsyncApp(
        signing_secret=secret,
        client=make_client(token, s.api_base_url),
        raise_error_for_unhandled_request=False,
    )

    @app.error
    async def on_error(error: Exception, body: dict[str, Any]) -> None:
        # The body may hold who clicked what: log the error's type only.
        log.error("listener failed: %s", type(error).__name__)

    answers.register(app, ctx)
    commands.register(app, ctx)
    return app
