"""Teams end to end: activities POSTed to /api/messages as Teams sends them, with real Bot Framework
tokens checked by the SDK; everything the bot sends back captured by the Bot Connector double."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import logging
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import func, select

from bot.logs import quiet_chatty_loggers
from bot.teams.ids import conversation_key
from bot.teams.platform import TeamsPlatform
from storage import conversations
from storage.models import HeldAnswer, Round, Survey, TeamsConversation
from surveys import operations
from surveys.banks import BankRegistry
from surveys.platform import PlatformError
from tests.e2e.teams.conftest import (
    COORDINATOR,
    ELMHURST,
    LEADERS,
    OAKFIELD,
    STAFF_A,
    installed,
    make_teams_survey,
)
from tests.harness import SimClock
from tests.teams_double import TeamsDouble, activities, cards_of, validate_card
from tests.teams_double.harness import TeamsHarness, answer_buttons, texts_of


async def _open(app: TeamsHarness, survey: Survey) -> None:
    round_, report = await operations.open_and_send(app.db, app.ctx.banks, app.platform, survey.id, now=app.ctx.clock())
    assert round_ is not None and report.sent == 2, report


async def _responses(app: TeamsHarness) -> list[HeldAnswer]:
    async with app.db.session() as s:
        return list((await s.scalars(select(HeldAnswer))).all())


def _card_in(teams: TeamsDouble, conversation: str) -> tuple[str, dict[str, Any]]:
    [message] = [m for m in teams.messages_in(conversation) if cards_of(m)]
    return message["id"], cards_of(message)[0]


def _option(buttons: list[dict[str, Any]], value: str) -> dict[str, Any]:
    return next(b for b in buttons if b["data"]["o"] == value)


# -- installs ------------------------------------------------------------------------------------


async def test_installs_store_references_without_names_and_greet_once(app: TeamsHarness, teams: TeamsDouble) -> None:
    key = await app.install_team(OAKFIELD, name="Oakfield Primary")
    [greeting] = teams.messages_in(OAKFIELD)
    assert key in greeting["text"] and "pulse help" in greeting["text"]
    # Teams follows a team install with installationUpdate; no second greeting for it.
    update = activities.fixture("installation_update_add", teams.service_url)
    update.update(conversation={**update["conversation"], "id": OAKFIELD, "conversationType": "channel"})
    update["recipient"]["id"] = f"28:{app.bot.app_id}"
    assert (await app.post(update))[0] == 202
    assert len(teams.messages_in(OAKFIELD)) == 1

    personal = activities.install(
        teams.service_url,
        scope="personal",
        conversation_id=teams.personal_conversation(STAFF_A[0]),
        who=teams.account(STAFF_A[0], "Ada Lovelace"),
        app_id=app.bot.app_id,
    )
    chat = activities.install(
        teams.service_url,
        scope="groupChat",
        conversation_id="19:chat0000@thread.v2",
        who=teams.account(STAFF_A[1]),
        app_id=app.bot.app_id,
    )
    assert (await app.post(personal))[0] == 202 and (await app.post(chat))[0] == 202
    async with app.db.session() as s:
        rows = {r.key: r for r in await conversations.teams_conversations(s)}
    team_row = rows[key]
    assert (team_row.kind, team_row.team_id, team_row.name) == ("channel", OAKFIELD, "Oakfield Primary")
    assert "user" not in team_row.reference and team_row.reference["serviceUrl"] == teams.service_url
    personal_row = rows[conversation_key(teams.personal_conversation(STAFF_A[0]))]
    assert personal_row.kind == "personal"
    assert personal_row.reference["user"] == {"id": teams.account(STAFF_A[0])["id"], "aadObjectId": STAFF_A[0]}
    assert "Ada Lovelace" not in json.dumps([r.reference for r in rows.values()])
    assert rows[conversation_key("19:chat0000@thread.v2")].kind == "groupChat"


async def test_removed_app_is_not_sent_to(app: TeamsHarness, teams: TeamsDouble) -> None:
    key = await app.install_team(OAKFIELD)
    gone = activities.uninstall(
        teams.service_url,
        conversation_id=OAKFIELD,
        who=teams.account(COORDINATOR),
        app_id=app.bot.app_id,
        team_id=OAKFIELD,
    )
    assert (await app.post(gone))[0] == 202
    async with app.db.session() as s:
        row = await s.get(TeamsConversation, key)
    assert row is not None and row.removed_at is not None
    with pytest.raises(PlatformError) as refused:
        await app.platform.channel_members(key)
    assert not refused.value.transient


STAFFROOM = "19:5ta77f00m5ta77f00m5ta77f00m5ta7@thread.tacv2"


async def test_an_install_in_a_picked_channel_goes_there_and_leaves_with_its_team(
    app: TeamsHarness, teams: TeamsDouble
) -> None:
    teams.teams[OAKFIELD].channels[STAFFROOM] = "Staffroom"
    add = activities.install(
        teams.service_url,
        scope="team",
        conversation_id=OAKFIELD,
        channel_id=STAFFROOM,
        who=teams.account(COORDINATOR),
        app_id=app.bot.app_id,
        team_name="Oakfield Primary",
    )
    assert (await app.post(add))[0] == 202
    key = conversation_key(STAFFROOM)
    [greeting] = teams.messages_in(STAFFROOM)
    assert key in greeting["text"] and teams.messages_in(OAKFIELD) == []
    async with app.db.session() as s:
        row = await s.get(TeamsConversation, key)
    assert row is not None and (row.team_id, row.conversation_id) == (OAKFIELD, STAFFROOM)
    assert row.reference["conversation"]["id"] == STAFFROOM

    # Removed from the team: Teams says so in the team's own conversation, not the staffroom's.
    gone = activities.uninstall(
        teams.service_url,
        conversation_id=OAKFIELD,
        who=teams.account(COORDINATOR),
        app_id=app.bot.app_id,
        team_id=OAKFIELD,
    )
    assert gone["conversation"]["id"] == OAKFIELD
    assert (await app.post(gone))[0] == 202
    async with app.db.session() as s:
        row = await s.get(TeamsConversation, key)
    assert row is not None and row.removed_at is not None
    before = len(teams.calls)
    digest = await operations.digest_for(app.db, app.ctx.banks, (await make_teams_survey(app)).id, now=app.ctx.clock())
    with pytest.raises(PlatformError) as refused:
        await app.platform.post_digest(key, digest)
    assert not refused.value.transient and len(teams.calls) == before


async def test_a_403_from_teams_stops_sends_there_without_retrying(app: TeamsHarness, teams: TeamsDouble) -> None:
    await installed(app)
    survey = await make_teams_survey(app)
    # The app is removed from Oakfield, and the event announcing it never arrives.
    teams.remove_app(OAKFIELD)
    round_, report = await operations.open_and_send(app.db, app.ctx.banks, app.platform, survey.id, now=app.ctx.clock())
    assert round_ is not None and (report.sent, report.failed) == (1, 1), report
    refused = [c for c in teams.calls if c.status == 403]
    assert len(refused) == 1  # not retried
    async with app.db.session() as s:
        row = await s.get(TeamsConversation, conversation_key(OAKFIELD))
    assert row is not None and row.removed_at is not None
    # The next round does not try Oakfield at all; Elmhurst still gets it.
    app.ctx.clock.advance(dt.timedelta(days=7))  # type: ignore[attr-defined]
    second, report = await operations.open_and_send(
        app.db, app.ctx.banks, app.platform, survey.id, now=app.ctx.clock(), scheduled=False
    )
    assert second is not None and report.sent == 1
    assert len([c for c in teams.calls if c.status == 403]) == 1


# -- a round, answered and changed ------------------------------------------------------------


async def test_round_goes_to_each_school_as_a_valid_card(app: TeamsHarness, teams: TeamsDouble) -> None:
    await installed(app)
    survey = await make_teams_survey(app)
    await _open(app, survey)
    for team in (OAKFIELD, ELMHURST):
        _, card = _card_in(teams, team)
        assert validate_card(card) == []
        buttons = answer_buttons(card)
        assert len(buttons) == 2 and all(len(options) == 4 for options in buttons.values())
    posts = teams.calls_to("POST", f"{OAKFIELD}/activities")
    # A new post in the channel (not a reply to anything), and the bot's token on it.
    assert posts[-1].path.endswith(f"/v3/conversations/{OAKFIELD}/activities")
    assert all(c.authorization == f"Bearer {teams.expect_token}" for c in teams.calls)
    async with app.db.session() as s:
        [round_] = (await s.scalars(select(Round))).all()
    # Counted from both teams' rosters through the connector.
    assert round_.audience_size == 24


async def test_click_is_recorded_anonymously_shown_to_the_clicker_and_changed_not_added(
    app: TeamsHarness, teams: TeamsDouble
) -> None:
    await installed(app)
    survey = await make_teams_survey(app)
    await _open(app, survey)
    message_id, card = _card_in(teams, OAKFIELD)
    item_id, options = next(iter(answer_buttons(card).items()))

    status, body = await app.click(STAFF_A[0], _option(options, "agree"), channel_id=OAKFIELD, reply_to=message_id)
    assert status == 200 and body["statusCode"] == 200 and body["type"] == "application/vnd.microsoft.card.adaptive"
    mine = body["value"]
    assert validate_card(mine) == []
    assert "recorded anonymously: Agree" in texts_of(mine)[0] and "Your answer: **Agree**" in texts_of(mine)

    status, body = await app.click(STAFF_A[0], _option(options, "disagree"), channel_id=OAKFIELD, reply_to=message_id)
    assert status == 200 and "Changed from Agree to Disagree" in texts_of(body["value"])[0]
    rows = await _responses(app)
    assert [(r.item_id, r.option, r.segment, r.valence) for r in rows] == [
        (item_id, "disagree", conversation_key(OAKFIELD), -1)
    ]
    assert STAFF_A[0] not in json.dumps([r.respondent_key for r in rows])
    # Nobody else's view changed: the channel's card was neither edited nor followed by a reply.
    assert teams.calls_to("PUT") == []
    assert [m for m in teams.messages_in(OAKFIELD) if cards_of(m)] == [teams.messages_in(OAKFIELD)[-1]]
    assert "Your answer" not in json.dumps(_card_in(teams, OAKFIELD)[1])


async def test_someone_in_two_schools_channels_still_counts_once(app: TeamsHarness, teams: TeamsDouble) -> None:
    await installed(app)
    survey = await make_teams_survey(app)
    await _open(app, survey)
    for team in (OAKFIELD, ELMHURST):
        message_id, card = _card_in(teams, team)
        options = next(iter(answer_buttons(card).values()))
        assert (await app.click(STAFF_A[1], _option(options, "agree"), channel_id=team, reply_to=message_id))[0] == 200
    # One person, one answer per item and round, wherever they click it (the same answer again
    # changes nothing).
    assert [r.segment for r in await _responses(app)] == [conversation_key(OAKFIELD)]


async def test_a_card_outside_the_audience_or_a_bad_payload_records_nothing(
    app: TeamsHarness, teams: TeamsDouble
) -> None:
    await installed(app)
    survey = await make_teams_survey(app)
    await _open(app, survey)
    message_id, card = _card_in(teams, OAKFIELD)
    option = next(iter(answer_buttons(card).values()))[0]
    status, body = await app.click(STAFF_A[0], option, channel_id=LEADERS, reply_to=message_id)
    assert status == 200 and "could not be recorded" in texts_of(body["value"])[0]
    forged = {**option, "data": {"r": "not-a-round", "i": "x", "o": "agree"}}
    status, body = await app.click(STAFF_A[0], forged, channel_id=OAKFIELD, reply_to=message_id)
    assert status == 200 and validate_card(body["value"]) == []
    stale = {**option, "verb": "pulse.something-old"}
    status, body = await app.click(STAFF_A[0], stale, channel_id=OAKFIELD, reply_to=message_id)
    assert status == 200 and "out of date" in texts_of(body["value"])[0]
    assert await _responses(app) == []


async def test_after_closing_a_click_changes_nothing(app: TeamsHarness, teams: TeamsDouble, clock: SimClock) -> None:
    import datetime as dt

    await installed(app)
    survey = await make_teams_survey(app, round_hours=2)
    await _open(app, survey)
    message_id, card = _card_in(teams, OAKFIELD)
    option = next(iter(answer_buttons(card).values()))[0]
    clock.advance(dt.timedelta(hours=3))
    status, body = await app.click(STAFF_A[0], option, channel_id=OAKFIELD, reply_to=message_id)
    assert status == 200 and "closed" in texts_of(body["value"])[0]
    assert answer_buttons(body["value"]) == {}
    assert await _responses(app) == []


# -- the digest --------------------------------------------------------------------------------


def _chart_png() -> bytes:
    image = Image.new("RGB", (800, 400), "white")
    for x in range(0, 800, 3):
        for y in range(0, 400, 5):
            image.putpixel((x, y), (x % 256, y % 256, 128))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


async def test_digest_arrives_as_a_valid_card_with_the_chart(
    db_url: str, teams: TeamsDouble, clock: SimClock, banks: BankRegistry
) -> None:
    import datetime as dt

    chart = _chart_png()
    async with TeamsHarness(db_url, double=teams, clock=clock, banks=banks, chart=lambda _digest: chart) as app:
        await installed(app)
        survey = await make_teams_survey(app, k=5, round_hours=48)
        await _open(app, survey)
        message_id, card = _card_in(teams, OAKFIELD)
        (first, first_opts), (second, second_opts) = list(answer_buttons(card).items())
        for i, person in enumerate(STAFF_A[:6]):
            value = "agree" if i < 4 else "strongly-disagree"
            assert (await app.click(person, _option(first_opts, value), channel_id=OAKFIELD, reply_to=message_id))[
                0
            ] == 200
        for person in STAFF_A[:4]:
            assert (await app.click(person, second_opts[0], channel_id=OAKFIELD, reply_to=message_id))[0] == 200
        clock.advance(dt.timedelta(hours=49))  # figures come from closed rounds
        digest = await operations.post_digest(app.db, app.ctx.banks, app.platform, survey.id, now=clock())
        assert digest is not None
        by_item = {i.item_id: i for i in digest.items}
        assert (by_item[first].n, by_item[first].favourable_pct, by_item[first].suppressed) == (6, 66.7, False)
        assert by_item[second].suppressed and by_item[second].favourable_pct is None
        [posted] = teams.messages_in(LEADERS)[1:]  # after the install greeting
        [content] = cards_of(posted)
        assert validate_card(content) == []
        rendered = json.dumps(content)
        assert "67%" in rendered and "hidden for anonymity" in rendered
        [image] = [e for e in content["body"] if e["type"] == "Image"]
        assert image["url"].startswith("data:image/png;base64,")
        with Image.open(io.BytesIO(base64.b64decode(image["url"].split(",", 1)[1]))) as shown:
            assert shown.format == "PNG"
        assert len(json.dumps(posted["attachments"][0]).encode()) <= 28_000


# -- authentication --------------------------------------------------------------------------


async def test_requests_without_a_valid_token_get_401_and_change_nothing(app: TeamsHarness, teams: TeamsDouble) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    activity = activities.install(
        teams.service_url, scope="team", conversation_id=OAKFIELD, who=teams.account(COORDINATOR), app_id=app.bot.app_id
    )
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    attempts = {
        "no header": {},
        "not bearer": {"Authorization": "Basic dXNlcjpwYXNz"},
        "garbage": {"Authorization": "Bearer not-a-jwt"},
        "another app": {"Authorization": f"Bearer {app.tokens.token('someone-else', teams.service_url)}"},
        "forged signature": {
            "Authorization": f"Bearer {app.tokens.token(app.bot.app_id, teams.service_url, key=other_key)}"
        },
        "expired": {"Authorization": f"Bearer {app.tokens.token(app.bot.app_id, teams.service_url, lifetime=-3600)}"},
    }
    for name, headers in attempts.items():
        status, _ = await app.post(activity, headers=headers)
        assert status == 401, name
    assert teams.calls == []
    async with app.db.session() as s:
        assert await s.scalar(select(func.count()).select_from(TeamsConversation)) == 0
    status, _ = await app.post(activity)
    assert status == 202 and len(teams.calls) == 1
    assert set(app.tokens.key_downloads) == {"https://login.botframework.com/v1/.well-known/keys"}
    assert {r[1:] for r in app.tokens.token_requests} == {
        ("https://api.botframework.com", ("https://api.botframework.com/.default",))
    }


async def test_a_service_url_other_than_microsofts_or_the_tokens_is_refused(
    db_url: str, teams: TeamsDouble, clock: SimClock
) -> None:
    async with TeamsHarness(db_url, double=teams, clock=clock, settings={"teams_check_service_url": True}) as app:
        activity = activities.install(
            teams.service_url,
            scope="team",
            conversation_id=OAKFIELD,
            who=teams.account(COORDINATOR),
            app_id=app.bot.app_id,
        )
        # The double's own address: not a Microsoft host.
        assert (await app.post(activity))[0] == 401
        # A Microsoft host, but not the one the token was issued for: a replayed token.
        activity["serviceUrl"] = "https://smba.trafficmanager.net/amer/"
        token = app.tokens.token(app.bot.app_id, "https://elsewhere.example/amer/")
        assert (await app.post(activity, headers={"Authorization": f"Bearer {token}"}))[0] == 401
    assert teams.calls == []


async def test_with_authentication_off_it_says_so_loudly(
    db_url: str, teams: TeamsDouble, clock: SimClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with TeamsHarness(db_url, double=teams, clock=clock, auth=False) as app:
        key = await app.install_team(OAKFIELD)
        assert app.platform.name == "teams" and not app.bot.auth.enabled
        assert key in teams.messages_in(OAKFIELD)[0]["text"]
    assert any("TEAMS_AUTH_DISABLED" in r.getMessage() and r.levelno >= logging.WARNING for r in caplog.records)


async def test_bad_bodies_get_a_short_error_not_a_trace(app: TeamsHarness) -> None:
    assert app.http is not None
    headers = {**app.headers(), "Content-Type": "application/json"}
    async with app.http.post(f"{app.url}/api/messages", data=b"{not json", headers=headers) as resp:
        assert resp.status == 400 and "Traceback" not in await resp.text()
    async with app.http.post(f"{app.url}/api/messages", json={"type": "message"}, headers=app.headers()) as resp:
        assert resp.status == 400 and "Traceback" not in await resp.text()
    async with app.http.post(f"{app.url}/api/messages", json=[1, 2], headers=app.headers()) as resp:
        assert resp.status == 400 and "Traceback" not in await resp.text()
    async with app.http.get(f"{app.url}/healthz") as resp:
        assert resp.status == 200


# -- privacy of logs ----------------------------------------------------------------------------


async def test_no_log_line_joins_a_person_to_an_answer(
    app: TeamsHarness, teams: TeamsDouble, caplog: pytest.LogCaptureFixture
) -> None:
    quiet_chatty_loggers()
    caplog.set_level(logging.DEBUG)
    await installed(app)
    survey = await make_teams_survey(app)
    await _open(app, survey)
    message_id, card = _card_in(teams, OAKFIELD)
    option = _option(next(iter(answer_buttons(card).values())), "strongly-disagree")
    person = STAFF_A[3]
    ids = {person, teams.account(person)["id"], teams.account(person)["name"]}
    assert (await app.click(person, option, channel_id=OAKFIELD, reply_to=message_id))[0] == 200
    assert caplog.records, "expected the product to log something at DEBUG"
    for record in caplog.records:
        line = record.getMessage()
        assert not (any(i in line for i in ids) and "strongly-disagree" in line), line


# -- throttling -----------------------------------------------------------------------------


async def test_unknown_conversation_is_a_permanent_failure(app: TeamsHarness) -> None:
    platform: TeamsPlatform = app.platform
    with pytest.raises(PlatformError) as failed:
        await platform.channel_members("T0000000000000000")
    assert not failed.value.transient
