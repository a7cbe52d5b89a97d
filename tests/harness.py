"""The real product, in-process, over real HTTP: Bolt app + aiohttp server + a Slack double.

Used by the end-to-end tests and by `pulse demo`. Requests to the app are signed exactly as
Slack signs them; the app's Web API calls go to the double through SLACK_API_URL.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from bot.context import Context
from bot.server import build_web_app
from bot.settings import Settings
from bot.slack.app import build_slack_app
from bot.slack.oauth import slack_platform
from bot.slack.platform import SlackPlatform
from storage.db import Database
from surveys.banks import BankRegistry
from surveys.sending import SendReport, drain
from tests.slack_double import SlackDouble

SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test"
ANONYMITY_SECRET = b"test-anonymity-secret-of-32-characters-or-more"


def signed_headers(body: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature or "",
        "Content-Type": "application/x-www-form-urlencoded",
    }


def click_body(
    team: str,
    user: str,
    channel: str,
    button: dict[str, Any],
    *,
    action_ts: float | None = None,
    message_ts: str = "1.0",
    response_url: str = "",
) -> str:
    """A button click as Slack posts it (block_actions, form-encoded), for signing and sending."""
    payload = {
        "type": "block_actions",
        "team": {"id": team},
        "user": {"id": user, "team_id": team},
        "api_app_id": "A0PULSE",
        "token": "legacy",
        "trigger_id": f"trigger-{user}-{time.monotonic_ns()}",
        "channel": {"id": channel},
        "container": {"type": "message", "channel_id": channel, "message_ts": message_ts},
        "message": {"ts": message_ts},
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": button["action_id"],
                "block_id": button.get("block_id", "b"),
                "value": button["value"],
                "action_ts": f"{time.time() if action_ts is None else action_ts:.6f}",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


class SimClock:
    """A clock the demo and tests can move; the app reads time only through it."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, delta: dt.timedelta) -> None:
        self.now += delta


class Harness:
    def __init__(
        self,
        db_url: str,
        *,
        double: SlackDouble,
        banks: BankRegistry | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        settings: dict[str, Any] | None = None,
    ) -> None:
        self.db_url = db_url
        self.double = double
        self._banks = banks
        self._clock = clock
        self._settings = settings or {}
        self.url = ""
        self._runner: web.AppRunner | None = None
        self.http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Harness:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        settings = Settings(
            slack_bot_token=BOT_TOKEN,
            slack_signing_secret=SIGNING_SECRET,
            pulse_anonymity_secret=ANONYMITY_SECRET.decode(),
            slack_api_url=f"{self.double.url}/api/",
            database_url=self.db_url,
            pulse_banks_dir=None,
            **self._settings,
        )
        self.ctx = Context(
            settings=settings,
            db=Database(self.db_url),
            banks=self._banks or BankRegistry.load(None),
            secret=ANONYMITY_SECRET,
        )
        if self._clock is not None:
            self.ctx.clock = self._clock
        self.slack_app = build_slack_app(self.ctx)
        self.ctx.platform = (
            slack_platform(settings, self.ctx.db, self.slack_app)
            if settings.slack_oauth_enabled
            else SlackPlatform(self.slack_app.client)
        )
        self._runner = web.AppRunner(build_web_app(self.ctx, self.slack_app), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        self.http = aiohttp.ClientSession()

    async def stop(self) -> None:
        if self.http is not None:
            await self.http.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def db(self) -> Database:
        return self.ctx.db

    async def drain_outbox(self) -> SendReport:
        """What the clock's outbox job does every few seconds, at the simulated time."""
        return await drain(
            self.ctx.db,
            self.ctx.require_platform(),
            self.ctx.banks,
            now=self.ctx.clock(),
            options=self.ctx.settings.send_options(),
        )

    # -- requests as Slack sends them -------------------------------------------------

    async def post(self, body: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
        assert self.http is not None
        async with self.http.post(
            f"{self.url}/slack/events", data=body.encode(), headers=headers or signed_headers(body)
        ) as resp:
            return resp.status, await resp.text()

    async def click(self, user: str, channel: str, button: dict[str, Any], *, message_ts: str = "1.0") -> int:
        response_url = self.double.response_url() if hasattr(self.double, "response_url") else ""
        body = click_body(self.double.team_id, user, channel, button, message_ts=message_ts, response_url=response_url)
        status, _ = await self.post(body)
        return status

    async def submit_view(
        self, user: str, view: dict[str, Any], values: dict[str, dict[str, Any]]
    ) -> tuple[int, dict[str, Any]]:
        """Send a signed view_submission for `view` (as opened) with state `values`.

        `values` is Slack's view.state.values: {block_id: {action_id: {"type": ..., ...}}}.
        Returns the status and the app's JSON answer ({} when it just closed the modal).
        """
        payload = {
            "type": "view_submission",
            "team": {"id": self.double.team_id},
            "user": {"id": user, "team_id": self.double.team_id},
            "api_app_id": "A0PULSE",
            "token": "legacy",
            "trigger_id": f"trigger-{user}-{time.monotonic_ns()}",
            "view": {
                **view,
                "id": view.get("id", "V0SUBMIT"),
                "team_id": self.double.team_id,
                "state": {"values": values},
                "hash": "h",
            },
        }
        status, text = await self.post(urlencode({"payload": json.dumps(payload)}))
        return status, (json.loads(text) if text.strip() else {})

    async def command(self, user: str, text: str, *, channel: str = "C0COORD", command: str = "/pulse") -> int:
        body = urlencode(
            {
                "token": "legacy",
                "team_id": self.double.team_id,
                "channel_id": channel,
                "user_id": user,
                "command": command,
                "text": text,
                "trigger_id": f"trigger-{time.monotonic_ns()}",
                "response_url": self.double.response_url() if hasattr(self.double, "response_url") else "",
                "api_app_id": "A0PULSE",
            }
        )
        status, _ = await self.post(body)
        return status

    async def wait_for(self, predicate: Callable[[], bool], limit: float = 10.0) -> None:
        deadline = asyncio.get_running_loop().time() + limit
        while not predicate():
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("condition not met in time")
            await asyncio.sleep(0.01)


def buttons_of(message: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The answer buttons of a posted round message, by item id, each with its block_id."""
    out: dict[str, list[dict[str, Any]]] = {}
    for block in message.get("blocks") or []:
        if block.get("type") != "actions":
            continue
        for el in block.get("elements", []):
            if el.get("type") == "button" and str(el.get("action_id", "")).startswith("answer:"):
                item = json.loads(el["value"])["i"]
                out.setdefault(item, []).append({**el, "block_id": block.get("block_id")})
    return out
