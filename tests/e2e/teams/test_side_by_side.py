"""Slack and Teams in one process: the router sends each survey through its own platform."""

from __future__ import annotations

from aiohttp import web

from bot.runner import wire_teams
from bot.server import build_web_app
from bot.slack.platform import SlackPlatform, make_client
from bot.teams.platform import TeamsPlatform
from bot.teams.router import PlatformRouter
from surveys import operations
from tests.e2e import conftest as slack_world
from tests.e2e.teams.conftest import OAKFIELD, installed, make_teams_survey
from tests.slack_double import SlackDouble
from tests.teams_double import TeamsDouble, cards_of
from tests.teams_double.harness import TeamsHarness


async def test_each_survey_goes_through_its_own_platform(app: TeamsHarness, teams: TeamsDouble) -> None:
    await installed(app)
    teams_survey = await make_teams_survey(app)
    async with SlackDouble(
        channels={
            slack_world.SCHOOL_A: {"name": "a", "members": slack_world.STAFF_A},
            slack_world.SCHOOL_B: {"name": "b", "members": slack_world.STAFF_B},
            slack_world.LEADERS: {"name": "leaders", "members": ["UL001"]},
        }
    ) as slack:
        router = PlatformRouter(SlackPlatform(make_client("xoxb-test", f"{slack.url}/api/")), app.platform)
        slack_survey = await slack_world.make_survey(app)  # type: ignore[arg-type]
        for survey in (slack_survey, teams_survey):
            round_, report = await operations.open_and_send(
                app.db, app.ctx.banks, router, survey.id, now=app.ctx.clock()
            )
            assert round_ is not None and (report.sent, report.failed) == (2, 0)
        assert len(slack.messages_in(slack_world.SCHOOL_A)) == 1
        assert len([m for m in teams.messages_in(OAKFIELD) if cards_of(m)]) == 1
        assert router.name == "slack"


async def test_wiring_teams_alone_or_next_to_slack(app: TeamsHarness) -> None:
    ctx = app.ctx
    ctx.platform = None
    bot = wire_teams(ctx)
    assert isinstance(ctx.platform, TeamsPlatform) and bot.platform is ctx.platform
    ctx.platform = SlackPlatform(make_client("xoxb-test", "http://127.0.0.1:9/api/"))
    ctx.settings = ctx.settings.model_copy(update={"slack_bot_token": "xoxb-test"})
    wire_teams(ctx)
    assert isinstance(ctx.platform, PlatformRouter)
    routes = {(r.method, r.resource.canonical) for r in build_web_app(ctx, None, teams=bot).router.routes()}
    assert ("POST", "/api/messages") in routes and not any(path == "/slack/events" for _, path in routes)
    assert isinstance(build_web_app(ctx, None, teams=bot), web.Application)
