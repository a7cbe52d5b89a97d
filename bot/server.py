"""The aiohttp web server: Slack's events, Teams' activities, the health check, and the lifecycle."""

from __future__ import annotations

import logging
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.context import Context
from bot.scheduler import LeadingClock
from bot.slack.envelope import BadRequest, check_body
from bot.slack.oauth import add_oauth_routes

if TYPE_CHECKING:
    from bot.teams.app import TeamsBot

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024


def _signed_body(verifier: SignatureVerifier, raw: bytes, headers: Any) -> str | None:
    """The body, if Slack signed it within the last five minutes; None for anything else.

    Slack only sends UTF-8, so a body that is not cannot carry a valid signature either.
    """
    try:
        body = raw.decode("utf-8")
        ok = verifier.is_valid(body, headers.get("X-Slack-Request-Timestamp"), headers.get("X-Slack-Signature"))
    except (UnicodeDecodeError, ValueError, TypeError):
        return None
    return body if ok else None


def build_web_app(
    ctx: Context, slack_app: AsyncApp | None, *, clock: LeadingClock | None = None, teams: TeamsBot | None = None
) -> web.Application:
    web_app = web.Application(client_max_size=MAX_BODY)

    secret = ctx.settings.slack_signing_secret.get_secret_value() if ctx.settings.slack_signing_secret else ""
    # Without Slack (Teams alone) there is no secret, and no /slack/events to verify.
    verifier = SignatureVerifier(secret) if slack_app is not None else None

    async def slack_events(request: web.Request) -> web.Response:
        """Verify, then check the shape, then let Bolt dispatch: a bad request is refused, never a 500.

        The body is read whole (at most MAX_BODY, else 413) because the signature covers it, and
        nothing else happens before the signature and its timestamp (at most five minutes old,
        against replays) are checked.
        """
        assert slack_app is not None and verifier is not None
        headers = request.headers
        body = _signed_body(verifier, await request.read(), headers)
        if body is None:
            return web.json_response({"error": "invalid request"}, status=401)
        try:
            check_body(body, request.content_type)
        except BadRequest as exc:
            return web.json_response({"error": f"bad request: {exc}"}, status=400)
        try:
            bolt_request = AsyncBoltRequest(body=body, query=request.query_string, headers=headers)  # type: ignore[arg-type]
            bolt_response = await slack_app.async_dispatch(bolt_request)
            return await to_aiohttp_response(bolt_response)
        except Exception as exc:
            # Something in the request still surprised Bolt or a listener. Say so briefly; log where,
            # never what (the body may say who clicked what).
            where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
            site = f" at {Path(where.filename).name}:{where.lineno}" if where else ""
            log.error("a Slack request could not be handled: %s%s", type(exc).__name__, site)
            return web.json_response({"error": "bad request"}, status=400)

    async def healthz(_request: web.Request) -> web.Response:
        ok = await ctx.db.ping()
        body = {"ok": ok, "database": "up" if ok else "down", "counters": ctx.counters.published()}
        return web.json_response(body, status=200 if ok else 503)

    if slack_app is not None:
        web_app.router.add_post("/slack/events", slack_events)
        # GET /slack/install and /slack/oauth_redirect, for multi-workspace installs.
        add_oauth_routes(web_app, slack_app)
    if teams is not None:
        # POST /api/messages, with the Bot Framework token check on that route alone.
        teams.mount(web_app)
    web_app.router.add_get("/healthz", healthz)

    async def on_startup(_app: web.Application) -> None:
        if slack_app is not None:
            # One connection pool for every Web API call of this process (each click's private
            # confirmation included; Bolt hands it to the client it makes per request), instead
            # of a new session and TCP connection per call. Created here, inside the running loop.
            client = slack_app.client
            client.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=client.timeout))
        if clock is not None:
            clock.start()

    async def on_cleanup(_app: web.Application) -> None:
        if clock is not None:
            await clock.stop()
        if slack_app is not None and slack_app.client.session is not None:
            session, slack_app.client.session = slack_app.client.session, None
            await session.close()
        await ctx.db.dispose()

    web_app.on_startup.append(on_startup)
    web_app.on_cleanup.append(on_cleanup)
    return web_app
