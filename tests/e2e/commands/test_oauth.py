"""Multi-workspace installs: Slack's OAuth flow through the real app, then each workspace's
requests and sends use that workspace's own bot token, taken from the database.

The Slack double is extended here with oauth.v2.access (Slack's code-for-token exchange, which
authenticates with the app's client id and secret rather than a token) and a record of which
token each Web API call carried.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from aiohttp import web
from sqlalchemy import text

from surveys import operations
from surveys.closing import close_due_rounds
from surveys.platform import PlatformError
from tests.e2e.conftest import LEADERS, SCHOOL_A, SCHOOL_B, START, make_survey
from tests.e2e.pulse_support import ADMIN, STAFF_A, modal_state, submit_view, workspace_double
from tests.harness import Harness, SimClock, buttons_of, signed_headers
from tests.slack_double import SlackDouble

CLIENT_ID, CLIENT_SECRET = "1111.2222", "client-secret"
OAUTH = {"slack_client_id": CLIENT_ID, "slack_client_secret": CLIENT_SECRET}
EAST, WEST = "T0EAST", "T0WEST"
GRID, GRID_ORG = "T0GRIDA", "E0TRUST"
# slack_sdk sends the client credentials with aiohttp's BasicAuth, which aiohttp now deprecates.
pytestmark = pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")


class InstallingDouble(SlackDouble):
    """The Slack double plus oauth.v2.access, and the token each call came with."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tokens = set()  # only installed workspaces' tokens are good
        self.token_log: list[tuple[str, str]] = []

    async def _dispatch(self, method: str, request: web.Request) -> web.StreamResponse:
        auth = request.headers.get("Authorization", "")
        if method == "oauth.v2.access":
            return await self._exchange(request, auth)
        self.token_log.append((method, auth.removeprefix("Bearer ")))
        return await super()._dispatch(method, request)

    async def _exchange(self, request: web.Request, auth: str) -> web.Response:
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        form = await request.post()
        code = str(form.get("code", ""))
        if auth != expected:
            return self._json({"ok": False, "error": "invalid_client_id"})
        match = re.fullmatch(r"code-(T\w+)", code)
        if match is None:
            return self._json({"ok": False, "error": "invalid_code"})
        team = match.group(1)
        token = f"xoxb-{team}"
        self.tokens.add(token)
        return self._json(
            {
                "ok": True,
                "app_id": "A0PULSE",
                "authed_user": {"id": ADMIN},
                "scope": "chat:write,commands",
                "token_type": "bot",
                "access_token": token,
                "bot_user_id": "U0BOT",
                "team": {"id": team, "name": f"School {team}"},
                # A workspace of an Enterprise Grid org is installed with the org's id beside its own.
                "enterprise": {"id": GRID_ORG, "name": "Trust"} if team.startswith("T0GRID") else None,
                "is_enterprise_install": False,
            }
        )

    def tokens_for(self, method: str) -> list[str]:
        return [token for m, token in self.token_log if m == method]


@pytest.fixture
async def double() -> AsyncIterator[InstallingDouble]:
    base = workspace_double()
    d = InstallingDouble(channels=base.channels, users=base.users, usergroups=base.usergroups)
    async with d:
        yield d


@pytest.fixture
async def app(db_url: str, double: InstallingDouble, banks) -> AsyncIterator[Harness]:  # type: ignore[no-untyped-def]
    async with Harness(db_url, double=double, clock=SimClock(START), banks=banks, settings=OAUTH) as h:
        yield h


async def install(app: Harness, team: str) -> str:
    """Go through /slack/install and /slack/oauth_redirect as an IT lead's browser would."""
    assert app.http is not None
    async with app.http.get(f"{app.url}/slack/install", allow_redirects=False) as resp:
        assert resp.status == 200
        page = await resp.text()
        cookie = resp.headers["Set-Cookie"].split(";", 1)[0]
    authorize = re.search(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', page)
    assert authorize is not None
    query = parse_qs(urlparse(authorize.group(1).replace("&amp;", "&")).query)
    assert query["client_id"] == [CLIENT_ID]
    assert set(query["scope"][0].split(",")) >= {"chat:write", "commands", "users:read"}
    state = query["state"][0]
    callback = f"{app.url}/slack/oauth_redirect?" + urlencode({"code": f"code-{team}", "state": state})
    async with app.http.get(callback, headers={"Cookie": cookie}, allow_redirects=False) as resp:
        return f"{resp.status} {await resp.text()}"


async def command_from(app: Harness, team: str, user: str, text: str, enterprise: str | None = None) -> tuple[int, str]:
    body = urlencode(
        {
            "token": "legacy",
            **({"enterprise_id": enterprise} if enterprise else {}),
            "team_id": team,
            "channel_id": "C0COORD",
            "user_id": user,
            "command": "/pulse",
            "text": text,
            "trigger_id": f"trigger-{time.monotonic_ns()}",
            "response_url": app.double.response_url(),
            "api_app_id": "A0PULSE",
        }
    )
    return await app.post(body)


async def test_an_install_is_stored_in_the_database_and_its_token_used(app: Harness, double: InstallingDouble) -> None:
    result = await install(app, EAST)
    assert result.startswith("200"), result
    async with app.db.session() as session:
        rows = (await session.execute(text("SELECT team_id, bot_token FROM slack_bots"))).all()
    assert [tuple(r) for r in rows] == [(EAST, f"xoxb-{EAST}")]

    status, _ = await command_from(app, EAST, ADMIN, "help")
    assert status == 200
    await app.wait_for(lambda: len(double.responses) == 1)
    assert "`/pulse surveys`" in double.responses[0]["body"]["text"]


async def test_a_workspace_that_has_not_installed_gets_nothing(app: Harness, double: InstallingDouble) -> None:
    await install(app, EAST)
    survey = await make_survey(app, workspace_id=WEST)
    status, _ = await command_from(app, WEST, ADMIN, f"pause {survey.id}")
    assert status == 200
    # Bolt tells the person to install the app; nothing else happens.
    await app.wait_for(lambda: len(double.responses) == 1)
    assert "reinstall this app" in double.responses[0]["body"]["text"]
    assert double.tokens_for("users.info") == []
    async with app.db.session() as session:
        assert not (await session.execute(text("SELECT paused FROM surveys"))).scalar()


async def test_a_replayed_or_forged_oauth_callback_installs_nothing(app: Harness, double: InstallingDouble) -> None:
    assert app.http is not None
    url = f"{app.url}/slack/oauth_redirect?" + urlencode({"code": f"code-{EAST}", "state": "made-up"})
    async with app.http.get(url, headers={"Cookie": "slack-app-oauth-state=made-up"}) as resp:
        assert resp.status in (400, 401)
    async with app.db.session() as session:
        assert (await session.execute(text("SELECT count(*) FROM slack_installations"))).scalar() == 0
    assert double.tokens == set()


async def test_each_workspace_sends_with_its_own_token(app: Harness, double: InstallingDouble) -> None:
    await install(app, EAST)
    await install(app, WEST)
    # A coordinator in the east workspace creates a survey from the modal: it records the workspace.
    assert (await command_from(app, EAST, ADMIN, "new"))[0] == 200
    await app.wait_for(lambda: bool(double.views))
    assert double.tokens_for("views.open") == [f"xoxb-{EAST}"]
    view = double.views[-1]["view"]
    values = modal_state(
        view, bank_ids=["staff-trust-in-leadership"], channels=[SCHOOL_A], digest_channel=LEADERS, k="5"
    )
    _status, body = await submit_view(app, ADMIN, view, values, team=EAST)
    assert body["response_action"] == "update"  # "Saving…", then the result replaces it
    await app.wait_for(lambda: any(v["kind"] == "update" for v in double.views))
    west = await make_survey(app, name="West", audience=[SCHOOL_B], digest_channel="C0WESTLEADS", workspace_id=WEST)
    async with app.db.session() as session:
        east_id = (await session.execute(text("SELECT id FROM surveys WHERE workspace_id = :w"), {"w": EAST})).scalar()
    assert east_id is not None

    double.token_log.clear()
    for survey_id in (east_id, west.id):
        round_, report = await operations.open_and_send(
            app.db, app.ctx.banks, app.ctx.require_platform(), survey_id, now=app.ctx.clock(), scheduled=False
        )
        assert round_ is not None and report.sent == 1
    assert double.tokens_for("chat.postMessage") == [f"xoxb-{EAST}", f"xoxb-{WEST}"]
    assert set(double.tokens_for("conversations.members")) == {f"xoxb-{EAST}", f"xoxb-{WEST}"}
    await operations.post_digest(app.db, app.ctx.banks, app.ctx.require_platform(), west.id, now=app.ctx.clock())
    assert double.tokens_for("chat.postMessage")[-1] == f"xoxb-{WEST}"

    # /pulse in the west workspace does not see the east workspace's survey.
    await command_from(app, WEST, ADMIN, f"pause {east_id}")
    await app.wait_for(lambda: any("There is no survey" in r["body"].get("text", "") for r in double.responses))


async def test_a_workspace_inside_an_enterprise_grid_org_is_found_and_sends_with_its_token(
    app: Harness, double: InstallingDouble
) -> None:
    await install(app, GRID)
    async with app.db.session() as session:
        stored = (await session.execute(text("SELECT enterprise_id, team_id FROM slack_bots"))).all()
    assert [tuple(r) for r in stored] == [(GRID_ORG, GRID)]
    survey = await make_survey(app, workspace_id=GRID)
    double.token_log.clear()
    round_, report = await operations.open_and_send(
        app.db, app.ctx.banks, app.ctx.require_platform(), survey.id, now=app.ctx.clock(), scheduled=False
    )
    assert round_ is not None and report.sent == len(survey.audience) and not report.failed
    assert set(double.tokens_for("chat.postMessage")) == {f"xoxb-{GRID}"}
    await operations.post_digest(app.db, app.ctx.banks, app.ctx.require_platform(), survey.id, now=app.ctx.clock())
    assert double.tokens_for("chat.postMessage")[-1] == f"xoxb-{GRID}"
    # /pulse from that workspace (Slack sends the org's id with it) is answered with its token.
    assert (await command_from(app, GRID, ADMIN, "help", enterprise=GRID_ORG))[0] == 200
    await app.wait_for(lambda: any("/pulse" in r["body"].get("text", "") for r in double.responses))


async def test_an_uninstalled_workspace_is_forgotten_and_its_rounds_fail_cleanly(
    app: Harness, double: InstallingDouble
) -> None:
    await install(app, EAST)
    survey = await make_survey(app, workspace_id=EAST)
    event = json.dumps(
        {
            "token": "legacy",
            "team_id": EAST,
            "api_app_id": "A0PULSE",
            "type": "event_callback",
            "event_id": "Ev1",
            "event_time": int(time.time()),
            "event": {"type": "app_uninstalled"},
        }
    )
    status, _ = await app.post(event, {**signed_headers(event), "Content-Type": "application/json"})
    assert status == 200

    async def installed() -> int:
        async with app.db.session() as session:
            return int((await session.execute(text("SELECT count(*) FROM slack_bots"))).scalar() or 0)

    for _ in range(250):  # Bolt's listener runs after the event is acknowledged
        if not await installed():
            break
        await asyncio.sleep(0.02)
    assert await installed() == 0

    with pytest.raises(PlatformError, match="not installed for workspace T0EAST") as caught:
        await operations.open_and_send(
            app.db, app.ctx.banks, app.ctx.require_platform(), survey.id, now=app.ctx.clock(), scheduled=False
        )
    assert caught.value.transient is False
    async with app.db.session() as session:
        assert (await session.execute(text("SELECT count(*) FROM rounds"))).scalar() == 0
        assert (await session.execute(text("SELECT count(*) FROM deliveries"))).scalar() == 0


async def test_revoked_tokens_stop_the_sends_and_keep_the_answers(app: Harness, double: InstallingDouble) -> None:
    await install(app, EAST)
    double.team_id = EAST  # clicks come from the installed workspace
    survey = await make_survey(app, workspace_id=EAST, items_per_round=1)
    round_, _ = await operations.open_and_send(
        app.db, app.ctx.banks, app.ctx.require_platform(), survey.id, now=app.ctx.clock(), scheduled=False
    )
    assert round_ is not None
    [posted] = double.messages_in(SCHOOL_A)
    options = next(iter(buttons_of(posted).values()))
    for n, person in enumerate(STAFF_A[:6]):  # four one way, two the other: not unanimous
        assert await app.click(person, SCHOOL_A, options[0] if n < 4 else options[-1]) == 200
    await app.wait_for(lambda: len(double.ephemerals) >= 6)
    await close_due_rounds(app.db, now=round_.closes_at)

    # Slack says the bot's token was revoked (an admin removed it): the installation is forgotten.
    event = json.dumps(
        {
            "token": "legacy",
            "team_id": EAST,
            "api_app_id": "A0PULSE",
            "type": "event_callback",
            "event_id": "Ev2",
            "event_time": int(time.time()),
            "event": {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["U0BOT"]}},
        }
    )
    status, _ = await app.post(event, {**signed_headers(event), "Content-Type": "application/json"})
    assert status == 200

    async def bots() -> int:
        async with app.db.session() as session:
            return int((await session.execute(text("SELECT count(*) FROM slack_bots"))).scalar() or 0)

    for _ in range(250):  # Bolt's listener runs after the event is acknowledged
        if not await bots():
            break
        await asyncio.sleep(0.02)
    assert await bots() == 0
    # No more sends: the next round is refused as not installed, and creates nothing.
    with pytest.raises(PlatformError, match="not installed for workspace T0EAST"):
        await operations.open_and_send(
            app.db, app.ctx.banks, app.ctx.require_platform(), survey.id, now=round_.closes_at, scheduled=False
        )
    # The answers stay: the digest, read from the command line, still counts all six.
    digest = await operations.digest_for(app.db, app.ctx.banks, survey.id, now=round_.closes_at)
    [item] = digest.items
    assert item.n == 6 and not item.suppressed


async def test_holidays_stay_within_their_workspace(app: Harness, double: InstallingDouble) -> None:
    await install(app, EAST)
    await install(app, WEST)
    east = await make_survey(app, name="East", workspace_id=EAST)
    west = await make_survey(app, name="West", workspace_id=WEST)

    async def say(team: str, text: str) -> str:
        before = len(double.responses)
        await command_from(app, team, ADMIN, text)
        await app.wait_for(lambda: len(double.responses) > before)
        return str(double.responses[before]["body"]["text"])

    assert "for survey" in await say(WEST, f"holidays add {west.id} 2026-10-19 West break")
    # "all" in one workspace means all of its own surveys, never another workspace's.
    assert "for every survey" in await say(EAST, "holidays add all 2026-10-26 2026-10-30 Half term")
    async with app.db.session() as session:
        rows = (await session.execute(text("SELECT survey_id, label FROM holidays ORDER BY id"))).all()
    assert [tuple(r) for r in rows] == [(west.id, "West break"), (east.id, "Half term")]
    east_list = await say(EAST, "holidays list")
    assert "Half term" in east_list and "West break" not in east_list
    assert (await say(EAST, "holidays remove 1")).startswith("There is no holiday 1")
    assert (await say(WEST, "holidays remove 1")).startswith("Removed holiday 1")
