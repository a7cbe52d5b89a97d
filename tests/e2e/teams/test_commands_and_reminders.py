"""`pulse ...` typed to the bot in Teams, and reminders sent by 1:1 chat."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.logs import quiet_chatty_loggers
from bot.scheduler import Clock
from bot.teams.ids import conversation_key
from storage.models import Round, SentReminder, Survey
from surveys import operations
from surveys.reminders import remind_round
from tests.e2e.teams.conftest import COORDINATOR, LEADER, OAKFIELD, STAFF_A, installed, make_teams_survey
from tests.harness import SimClock
from tests.teams_double import TeamsDouble, cards_of, validate_card
from tests.teams_double.harness import TeamsHarness, answer_buttons


def _replies(teams: TeamsDouble, conversation: str) -> list[str]:
    return [str(m.get("text") or "") for m in teams.messages_in(conversation)]


async def test_help_in_a_channel_answers_in_the_thread_with_the_key(app: TeamsHarness, teams: TeamsDouble) -> None:
    await installed(app)
    assert await app.say(STAFF_A[0], "pulse help", channel_id=OAKFIELD, team_id=OAKFIELD) == 202
    reply = teams.messages_in(OAKFIELD)[-1]
    assert reply["conversation"]["id"].startswith(f"{OAKFIELD};messageid=")
    assert "`pulse surveys`" in reply["text"] and conversation_key(OAKFIELD) in reply["text"]
    assert "**Pulse Audit**" in reply["text"]


async def test_mistakes_get_the_usage_line(app: TeamsHarness, teams: TeamsDouble) -> None:
    assert await app.say(COORDINATOR, "pulse pase 1") == 202
    [reply] = _replies(teams, teams.personal_conversation(COORDINATOR))
    assert "Did you mean `pause`?" in reply and "`pulse help`" in reply


async def test_a_non_coordinator_is_refused_and_nothing_changes(app: TeamsHarness, teams: TeamsDouble) -> None:
    await installed(app)
    survey = await make_teams_survey(app)
    assert await app.say(STAFF_A[0], f"pulse pause {survey.id}", channel_id=OAKFIELD, team_id=OAKFIELD) == 202
    assert "only Pulse coordinators can pause surveys" in teams.messages_in(OAKFIELD)[-1]["text"]
    assert await app.say(STAFF_A[0], f"pulse send-now {survey.id}") == 202
    assert "only Pulse coordinators" in _replies(teams, teams.personal_conversation(STAFF_A[0]))[-1]
    async with app.db.session() as s:
        assert not (await s.get(Survey, survey.id)).paused  # type: ignore[union-attr]
        assert (await s.scalars(select(Round))).first() is None


async def test_a_coordinator_runs_commands(app: TeamsHarness, teams: TeamsDouble) -> None:
    await installed(app)
    survey = await make_teams_survey(app)
    dm = teams.personal_conversation(COORDINATOR)
    assert await app.say(COORDINATOR, f"pulse send-now {survey.id}") == 202
    assert f"Opened round 1 of survey {survey.id}: 2 message(s) queued" in _replies(teams, dm)[-1]
    # The command only queues; the clock's outbox job sends.
    assert [m for m in teams.messages_in(OAKFIELD) if cards_of(m)] == []
    assert (await app.drain_outbox()).sent == 2
    assert len([m for m in teams.messages_in(OAKFIELD) if cards_of(m)]) == 1
    assert await app.say(COORDINATOR, f"pulse pause {survey.id}") == 202
    assert "paused" in _replies(teams, dm)[-1]
    assert await app.say(COORDINATOR, "pulse surveys") == 202
    assert "**Trust pulse**" in _replies(teams, dm)[-1] and "paused" in _replies(teams, dm)[-1]
    assert await app.say(COORDINATOR, "pulse new") == 202
    [form] = cards_of(teams.messages_in(dm)[-1])
    assert validate_card(form) == [] and form["body"][0]["text"] == "New survey"
    async with app.db.session() as s:
        assert (await s.get(Survey, survey.id)).paused  # type: ignore[union-attr]


async def test_delete_asks_first_on_a_card(app: TeamsHarness, teams: TeamsDouble) -> None:
    survey = await make_teams_survey(app)
    dm = teams.personal_conversation(COORDINATOR)
    assert await app.say(COORDINATOR, f"pulse delete {survey.id}") == 202
    [confirm] = cards_of(teams.messages_in(dm)[-1])
    assert validate_card(confirm) == []
    delete = next(a for a in confirm["actions"] if a["title"] == "Delete it")
    status, body = await app.post(
        __import__("tests.teams_double.activities", fromlist=["execute"]).execute(
            teams.service_url,
            delete["data"],
            who=teams.account(STAFF_A[0]),
            reply_to=teams.messages_in(dm)[-1]["id"],
            conversation_id=dm,
            verb=delete["verb"],
            app_id=app.bot.app_id,
        )
    )
    assert status == 200 and "only Pulse coordinators" in json.dumps(body)
    async with app.db.session() as s:
        assert await s.get(Survey, survey.id) is not None
    from tests.teams_double import activities

    status, body = await app.post(
        activities.execute(
            teams.service_url,
            delete["data"],
            who=teams.account(COORDINATOR),
            reply_to=teams.messages_in(dm)[-1]["id"],
            conversation_id=dm,
            verb=delete["verb"],
            app_id=app.bot.app_id,
        )
    )
    assert status == 200 and f"Deleted survey {survey.id}" in json.dumps(body)
    assert validate_card(body["value"]) == []
    async with app.db.session() as s:
        assert await s.get(Survey, survey.id) is None


async def test_results_asked_in_a_channel_go_to_the_asker_privately(app: TeamsHarness, teams: TeamsDouble) -> None:
    await installed(app)
    survey = await make_teams_survey(app)
    assert await app.say(LEADER, f"pulse results {survey.id}", channel_id=OAKFIELD, team_id=OAKFIELD) == 202
    assert "private chat" in teams.messages_in(OAKFIELD)[-1]["text"]
    [created] = teams.created
    assert created["members"] == [{"id": teams.account(LEADER)["id"]}]
    [digest] = cards_of(teams.messages_in(teams.personal_conversation(LEADER))[-1])
    assert validate_card(digest) == [] and "Pulse digest: Trust pulse" in json.dumps(digest)
    # Someone who neither coordinates nor leads is refused.
    assert await app.say(STAFF_A[2], f"pulse results {survey.id}") == 202
    assert (
        "only Pulse coordinators and the survey's leaders"
        in teams.messages_in(teams.personal_conversation(STAFF_A[2]))[-1]["text"]
    )


async def test_reminders_go_by_private_chat_to_those_who_have_not_answered(
    app: TeamsHarness, teams: TeamsDouble, clock: SimClock, caplog: pytest.LogCaptureFixture
) -> None:
    quiet_chatty_loggers()
    caplog.set_level(logging.DEBUG)
    await installed(app)
    survey = await make_teams_survey(app, round_hours=48, items_per_round=1)
    round_, _ = await operations.open_and_send(app.db, app.ctx.banks, app.platform, survey.id, now=clock())
    assert round_ is not None
    [message] = [m for m in teams.messages_in(OAKFIELD) if cards_of(m)]
    option = next(iter(answer_buttons(cards_of(message)[0]).values()))[0]
    for person in STAFF_A[:10]:
        assert (await app.click(person, option, channel_id=OAKFIELD, reply_to=message["id"]))[0] == 200
    async with app.db.session() as s:
        s.add(await s.get(Survey, survey.id))
        (await s.get(Survey, survey.id)).remind_hours = 24  # type: ignore[union-attr]
    clock.advance(dt.timedelta(hours=30))  # a weekday afternoon, past half the round
    reminded = await remind_round(app.db, app.platform, app.ctx.banks, app.ctx.secret, round_.id, now=clock())
    # The two in Oakfield who had not answered, and everyone in Elmhurst.
    assert reminded == 2 + 12
    reached = {m["members"][0]["id"] for m in teams.created}
    assert reached == {
        teams.account(p)["id"] for p in [*STAFF_A[10:], *[f"b0000000-0000-4000-8000-{n:012d}" for n in range(12)]]
    }
    reminder = cards_of(teams.messages_in(teams.personal_conversation(STAFF_A[10]))[-1])[0]
    assert validate_card(reminder) == [] and answer_buttons(reminder) == {}
    assert "Oakfield Primary" in json.dumps(reminder)
    # Nobody's id, or 1:1 chat, appears in the logs: that would say who had not answered.
    for record in caplog.records:
        line = record.getMessage()
        assert not any(p in line or teams.account(p)["id"] in line for p in STAFF_A), line
        assert "a:1" not in line, line

    # The reminders stay in those chats while the round is open; at the close they are deleted,
    # and so is every record of where they went.
    assert await _count(app, SentReminder) == 14
    clock.advance(dt.timedelta(hours=18))
    await Clock(app.ctx).close_rounds()
    chats = {teams.personal_conversation(p) for p in STAFF_A[10:]}
    assert chats <= {chat for chat, _ in teams.deleted} and len(teams.deleted) == 14
    assert all(not teams.messages_in(chat) for chat in chats)
    assert await _count(app, SentReminder) == 0
    async with app.db.session() as s:
        assert (await s.get(Round, round_.id)).closed_at is not None  # type: ignore[union-attr]


async def _count(app: TeamsHarness, table: type[Any]) -> int:
    async with app.db.session() as s:
        return int(await s.scalar(select(func.count()).select_from(table)) or 0)


async def test_close_asks_first_on_a_card_then_seals_the_round_once(
    app: TeamsHarness, teams: TeamsDouble, clock: SimClock
) -> None:
    from tests.teams_double import activities

    await installed(app)
    survey = await make_teams_survey(app)
    round_, _ = await operations.open_and_send(app.db, app.ctx.banks, app.platform, survey.id, now=clock())
    assert round_ is not None
    dm = teams.personal_conversation(COORDINATOR)
    assert await app.say(COORDINATOR, f"pulse close {survey.id}") == 202
    [confirm] = cards_of(teams.messages_in(dm)[-1])
    assert validate_card(confirm) == [] and "sealed" in json.dumps(confirm)
    close = next(a for a in confirm["actions"] if a["title"] == "Close it now")
    assert close["data"] == {"s": survey.id, "r": round_.id}

    async def press(who: str) -> str:
        status, body = await app.post(
            activities.execute(
                teams.service_url,
                close["data"],
                who=teams.account(who),
                reply_to=teams.messages_in(dm)[-1]["id"],
                conversation_id=dm,
                verb=close["verb"],
                app_id=app.bot.app_id,
            )
        )
        assert status == 200
        return json.dumps(body)

    assert "only Pulse coordinators" in await press(STAFF_A[0])
    async with app.db.session() as s:
        assert (await s.get(Round, round_.id)).closed_at is None  # type: ignore[union-attr]
    assert "Closed round 1" in await press(COORDINATOR)
    assert "already closed" in await press(COORDINATOR)
    async with app.db.session() as s:
        assert (await s.get(Round, round_.id)).closed_at is not None  # type: ignore[union-attr]
