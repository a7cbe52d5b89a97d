"""The aiohttp web server: Slack's events, the health check, and the process's lifecycle."""

from __future__ import annotations

import logging

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from bot.context import Context
from bot.scheduler import Clock

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024


def build_web_app(ctx: Context, slack_app: AsyncApp, *, clock: Clock | None = None) -> web.Application:
    web_app = web.Application(client_max_size=MAX_BODY)

    async def slack_events(request: web.Request) -> web.Response:
        bolt_response = await slack_app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    async def healthz(_request: web.Request) -> web.Response:
        ok = await ctx.db.ping()
        return web.json_response({"ok": ok, "database": "up" if ok else "down"}, status=200 if ok else 503)

    web_app.router.add_post("/slack/events", slack_events)
    web_app.router.add_get("/healthz", healthz)

    async def on_startup(_app: web.Application) -> None:
        if clock is not None:
            clock.start()

    async def on_cleanup(_app: web.Application) -> None:
        if clock is not None:
            clock.shutdown()
        await ctx.db.dispose()

    web_app.on_startup.append(on_startup)
    web_app.on_cleanup.append(on_cleanup)
    return web_app
