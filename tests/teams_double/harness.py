"""The real product with Teams, in-process, over real HTTP: the Agents SDK app + aiohttp + the double.

Used by the Teams end-to-end tests and by `pulse demo --platform teams`. Activities are POSTed to
/api/messages exactly as Teams sends them; with authentication on (the default here, as in
production) each carries a Bot Framework token that the SDK's own validator checks, and every
call the bot makes back to Teams must carry the bot's Entra token (see tokens.py).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp import web

from bot.context import Context
from bot.server import build_web_app
from bot.settings import Settings
from bot.teams.app import TeamsBot
from bot.teams.cards import ANSWER_VERB
from bot.teams.ids import conversation_key
from bot.teams.platform import Chart, TeamsPlatform, default_chart
from bot.teams.throttle import Throttle
from storage.db import Database
from surveys.banks import BankRegistry
from surveys.sending import SendReport, drain
from tests.teams_double import activities
from tests.teams_double.server import APP_ID, TeamsDouble
from tests.teams_double.tokens import OUTBOUND_TOKEN, TokenAuthority

ANONYMITY_SECRET = b"test-anonymity-secret-of-32-characters-or-more"
APP_PASSWORD = "test-client-secret"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


class TeamsHarness:
    def __init__(
        self,
        db_url: str,
        *,
        double: TeamsDouble,
        banks: BankRegistry | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        auth: bool = True,
        settings: dict[str, Any] | None = None,
        chart: Chart | None = None,
        throttle: Throttle | None = None,
    ) -> None:
        self.db_url = db_url
        self.double = double
        self.auth = auth
        self._banks = banks
        self._clock = clock
        self._settings = settings or {}
        self._chart = chart
        self._throttle = throttle
        self.tokens = TokenAuthority()
        self.url = ""
        self._runner: web.AppRunner | None = None
        self.http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> TeamsHarness:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        values: dict[str, Any] = {
            "pulse_anonymity_secret": ANONYMITY_SECRET.decode(),
            "database_url": self.db_url,
            "pulse_banks_dir": None,
            "teams_app_id": APP_ID,
            # The double listens on http://127.0.0.1, which production rightly refuses.
            "teams_check_service_url": False,
        }
        if self.auth:
            values.update(teams_app_password=APP_PASSWORD, teams_tenant_id=TENANT)
            self.tokens.install()
            self.double.expect_token = OUTBOUND_TOKEN
        else:
            values["teams_auth_disabled"] = True
        values.update(self._settings)
        settings = Settings(_env_file=None, **values)
        self.ctx = Context(
            settings=settings,
            db=Database(self.db_url),
            banks=self._banks or BankRegistry.load(None),
            secret=ANONYMITY_SECRET,
        )
        if self._clock is not None:
            self.ctx.clock = self._clock
        self.bot = TeamsBot(self.ctx)
        # The product's own chart unless a test brings one.
        self.platform = TeamsPlatform(self.bot, chart=self._chart or default_chart(), throttle=self._throttle)
        self.ctx.platform = self.platform
        self._runner = web.AppRunner(build_web_app(self.ctx, None, teams=self.bot), access_log=None)
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
        self.tokens.uninstall()

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

    # -- activities as Teams sends them -----------------------------------------------------
    def headers(self) -> dict[str, str]:
        if not self.auth:
            return {}
        return {"Authorization": f"Bearer {self.tokens.token(APP_ID, self.double.service_url)}"}

    async def post(self, activity: dict[str, Any], headers: dict[str, str] | None = None) -> tuple[int, Any]:
        assert self.http is not None
        async with self.http.post(
            f"{self.url}/api/messages", json=activity, headers=self.headers() if headers is None else headers
        ) as resp:
            body = await resp.text()
            try:
                return resp.status, (await resp.json(content_type=None)) if body else None
            except ValueError:
                return resp.status, body

    async def install_team(self, team_id: str, *, by: str = "installer-aad", name: str = "Pulse Team") -> str:
        """The app added to a team (its General channel); returns the conversation key."""
        activity = activities.install(
            self.double.service_url,
            scope="team",
            conversation_id=team_id,
            who=self.double.account(by),
            app_id=APP_ID,
            team_name=name,
        )
        status, _ = await self.post(activity)
        assert status == 202, status
        return conversation_key(team_id)

    async def say(
        self,
        person: str,
        text: str,
        *,
        channel_id: str | None = None,
        team_id: str | None = None,
        conversation_id: str | None = None,
    ) -> int:
        activity = activities.message(
            self.double.service_url,
            text,
            who=self.double.account(person),
            channel_id=channel_id,
            team_id=team_id,
            conversation_id=conversation_id or (None if channel_id else self.double.personal_conversation(person)),
            app_id=APP_ID,
        )
        status, _ = await self.post(activity)
        return status

    async def click(
        self, person: str, action: dict[str, Any], *, channel_id: str, reply_to: str, team_id: str | None = None
    ) -> tuple[int, Any]:
        """Press an Action.Execute button of a card posted in a channel; returns (status, invoke body)."""
        activity = activities.execute(
            self.double.service_url,
            action["data"],
            who=self.double.account(person),
            reply_to=reply_to,
            channel_id=channel_id,
            team_id=team_id,
            verb=action.get("verb", ANSWER_VERB),
            title=action.get("title", ""),
            app_id=APP_ID,
        )
        return await self.post(activity)

    async def wait_for(self, predicate: Callable[[], bool], limit: float = 10.0) -> None:
        deadline = asyncio.get_running_loop().time() + limit
        while not predicate():
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("condition not met in time")
            await asyncio.sleep(0.01)


def answer_buttons(card: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The answer buttons of a round card, by item id (facets included in each button's data)."""
    out: dict[str, list[dict[str, Any]]] = {}

    def walk(elements: list[dict[str, Any]]) -> None:
        for element in elements:
            if element.get("type") == "ActionSet":
                for action in element.get("actions", []):
                    if action.get("type") == "Action.Execute" and action.get("verb") == ANSWER_VERB:
                        out.setdefault(action["data"]["i"], []).append(action)
            walk(element.get("items") or [])

    walk(card.get("body") or [])
    return out


def texts_of(card: dict[str, Any]) -> list[str]:
    """Every TextBlock's text, in order, containers included."""
    out: list[str] = []

    def walk(elements: list[dict[str, Any]]) -> None:
        for element in elements:
            if element.get("type") == "TextBlock":
                out.append(element["text"])
            walk(element.get("items") or [])

    walk(card.get("body") or [])
    return out
