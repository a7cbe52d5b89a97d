"""The Bolt AsyncApp, wired to the product's listeners."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.context import Context
from bot.slack.authorize import single_workspace
from bot.slack.listeners import answers, checkins, commands, comments, home, jpd, modals
from bot.slack.oauth import oauth_settings
from bot.slack.platform import make_client
from bot.slack.roles import GroupCache

log = logging.getLogger(__name__)


def build_slack_app(ctx: Context) -> AsyncApp:
    s = ctx.settings
    token = s.slack_bot_token.get_secret_value() if s.slack_bot_token else ""
    secret = s.slack_signing_secret.get_secret_value() if s.slack_signing_secret else ""
    # With OAuth on, Bolt takes each request's token from that workspace's installation.
    oauth = oauth_settings(s, ctx.db) if s.slack_oauth_enabled else None
    app = AsyncApp(
        signing_secret=secret,
        client=make_client(None if oauth else token, s.api_base_url),
        oauth_settings=oauth,
        authorize=None if oauth else single_workspace(token),
        raise_error_for_unhandled_request=False,
    )
    if oauth is not None:
        # tokens_revoked and app_uninstalled delete the workspace's stored installation.
        app.enable_token_revocation_listeners()

    @app.error
    async def on_error(error: Exception, body: dict[str, Any]) -> None:
        # The body may hold who clicked what: log the error's type only.
        log.error("listener failed: %s", type(error).__name__)

    answers.register(app, ctx)
    checkins.register(app, ctx)
    comments.register(app, ctx)
    groups = GroupCache()
    commands.register(app, ctx, groups)
    modals.register(app, ctx, groups)
    home.register(app, ctx, groups)
    jpd.register(app, ctx)
    return app
