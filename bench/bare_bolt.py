"""The baselines for answer ingestion: bare Bolt AsyncApps on the product's server stack.

``python -m bench.bare_bolt --mode ack|confirm --port P`` serves POST /slack/events exactly as
bot/server.py does (aiohttp + slack_bolt's aiohttp adapter, same body limit, no access log), with
one action listener:

* ``ack``: acknowledges the click and does nothing else;
* ``confirm``: acknowledges, then sends the same kind of private confirmation the product sends
  (chat.postEphemeral to the clicker through the Slack double): the Slack work no product can skip.

Settings come from the same variables as `pulse serve`: SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET,
SLACK_API_URL.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

# As long as the product's own "recorded anonymously" confirmation, so both send the same bytes.
CONFIRMATION = ":white_check_mark: Thanks — recorded anonymously: *Agree*. You can change it until Thu 10 Sep, 09:00."


def build(mode: str) -> web.Application:
    base_url = os.environ["SLACK_API_URL"]
    app = AsyncApp(
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        client=AsyncWebClient(
            token=os.environ["SLACK_BOT_TOKEN"], base_url=base_url if base_url.endswith("/") else base_url + "/"
        ),
        raise_error_for_unhandled_request=False,
    )

    @app.action(re.compile(r"^answer:"))
    async def on_answer(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        if mode == "confirm":
            user_id = str((body.get("user") or {}).get("id", ""))
            channel_id = str((body.get("channel") or {}).get("id", ""))
            await client.chat_postEphemeral(channel=channel_id, user=user_id, text=CONFIRMATION)

    web_app = web.Application(client_max_size=1024 * 1024)

    async def slack_events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    web_app.router.add_post("/slack/events", slack_events)
    web_app.router.add_get("/healthz", healthz)
    return web_app


async def serve(mode: str, port: int) -> None:
    runner = web.AppRunner(build(mode), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bare_bolt")
    parser.add_argument("--mode", choices=("ack", "confirm"), required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.mode, args.port))


if __name__ == "__main__":
    main()
