"""A JPD exchange in Teams, end to end through the real app and the Teams double: `pulse jpd open`
posts the invitation card, people take part, change and withdraw through a form that replaces the
card for them alone, and at the deadline the clock introduces each group member in a private chat,
tells the one left out why and sends the coordinator the summary. Bad input changes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.scheduler import Clock
from bot.teams.jpd_cards import NOTE, OFFERS, OPEN_VERB, SAVE_VERB, TITLE, UNIT, WANTS, WITHDRAW_VERB
from storage.models import JpdEntry
from tests.e2e.pulse_support import snapshot_db
from tests.e2e.teams.conftest import COORDINATOR, LEADER, LEADERS, OAKFIELD, STAFF_A
from tests.harness import SimClock
from tests.teams_double import Team, TeamsDouble, cards_of, validate_card
from tests.teams_double.harness import TeamsHarness, texts_of

ANA, BEN, CAL, GUS = STAFF_A[0], STAFF_A[1], STAFF_A[2], STAFF_A[3]


@pytest.fixture
async def teams() -> AsyncIterator[TeamsDouble]:
    # The coordinator is one of Oakfield's staff here: the exchange is opened in its channel.
    double = TeamsDouble(
        teams={OAKFIELD: Team("Oakfield Primary", [*STAFF_A, COORDINATOR]), LEADERS: Team("Leadership", [LEADER])}
    )
    async with double:
        yield double


async def product_rows(app: TeamsHarness) -> dict[str, Any]:
    """Every row, but the stored conversation references, which any message refreshes."""
    rows = await snapshot_db(app.db)
    rows.pop("teams_conversations")
    return rows


def invitation(teams: TeamsDouble) -> tuple[str, dict[str, Any]]:
    [(message_id, card)] = [
        (m["id"], c) for m in teams.messages_in(OAKFIELD) for c in cards_of(m) if texts_of(c)[0] == TITLE
    ]
    return message_id, card


def action(card: dict[str, Any], verb: str) -> dict[str, Any]:
    [found] = [a for a in card.get("actions") or [] if a.get("verb") == verb]
    return found


async def click(app: TeamsHarness, who: str, pressed: dict[str, Any], reply_to: str) -> dict[str, Any]:
    status, body = await app.click(who, pressed, channel_id=OAKFIELD, team_id=OAKFIELD, reply_to=reply_to)
    assert status == 200 and body["statusCode"] == 200
    assert validate_card(body["value"]) == []
    return dict(body["value"])


async def take_part(
    app: TeamsHarness, teams: TeamsDouble, who: str, offers: str, wants: str, note: str = ""
) -> list[str]:
    message_id, card = invitation(teams)
    form = await click(app, who, action(card, OPEN_VERB), message_id)
    save = action(form, SAVE_VERB)
    filled = {**save, "data": {**save["data"], OFFERS: offers, WANTS: wants, UNIT: "", NOTE: note}}
    return texts_of(await click(app, who, filled, message_id))


def chat_texts(teams: TeamsDouble, person: str) -> str:
    return "\n".join(
        t for m in teams.messages_in(teams.personal_conversation(person)) for c in cards_of(m) for t in texts_of(c)
    )


async def test_people_take_part_change_and_withdraw_and_are_introduced_privately(
    app: TeamsHarness, teams: TeamsDouble, clock: SimClock
) -> None:
    await app.install_team(OAKFIELD, name="Oakfield Primary")
    assert await app.say(COORDINATOR, "pulse jpd open 2026-09-11 15:00", channel_id=OAKFIELD, team_id=OAKFIELD) == 202
    assert "Opened exchange 1" in str(teams.messages_in(OAKFIELD)[-1].get("text"))
    message_id, card = invitation(teams)
    assert validate_card(card) == [] and "not anonymous" in " ".join(texts_of(card))

    said = await take_part(app, teams, ANA, "feedback", "reading", note="Happy to host")
    assert said[0].startswith("You're in") and "Feedback pupils act on" in said[0]
    await take_part(app, teams, BEN, "oracy", "feedback")
    assert (await take_part(app, teams, BEN, "reading", "feedback"))[0].startswith("Answer changed")
    await take_part(app, teams, CAL, "reading", "feedback")
    withdrawn = await click(app, CAL, action(card, WITHDRAW_VERB), message_id)
    assert "withdrawn" in texts_of(withdrawn)[0]
    await take_part(app, teams, GUS, "families", "wellbeing")
    async with app.db.session() as session:
        entries = {e.person: e for e in (await session.scalars(select(JpdEntry))).all()}
    assert set(entries) == {ANA, BEN, GUS} and entries[ANA].name.startswith("Staff ")

    clock.advance(dt.timedelta(days=5))
    await Clock(app.ctx).exchanges()

    ana, ben = entries[ANA].name, entries[BEN].name
    for person in (ANA, BEN):
        shown = chat_texts(teams, person)
        assert f"**{ana}** could offer **{ben}**: Feedback pupils act on" in shown
        assert f"**{ben}** could offer **{ana}**: Reading across the curriculum" in shown
        assert "Happy to host" in shown
    assert "nobody wanted what they offer" in chat_texts(teams, GUS)
    summary = chat_texts(teams, COORDINATOR)
    assert "Took part: 3 people" in summary and "holding 2 of 3" in summary
    # The invitation now says it has closed, and offers no buttons.
    _, closed = invitation(teams)
    assert "closed" in " ".join(texts_of(closed)) and not closed.get("actions")
    sent = sum(len(v) for v in teams.posted.values())
    await Clock(app.ctx).exchanges()
    assert sum(len(v) for v in teams.posted.values()) == sent


async def test_bad_input_in_teams_changes_nothing(app: TeamsHarness, teams: TeamsDouble) -> None:
    await installed_oakfield(app)
    before = await product_rows(app)
    assert await app.say(COORDINATOR, "pulse jpd open 2026-09-01", channel_id=OAKFIELD, team_id=OAKFIELD) == 202
    assert "already passed" in str(teams.messages_in(OAKFIELD)[-1].get("text"))
    assert await product_rows(app) == before
    assert await app.say(COORDINATOR, "pulse jpd open 2026-09-11") == 202  # in the 1:1 chat
    dm = teams.messages_in(teams.personal_conversation(COORDINATOR))
    assert "not a direct message" in str(dm[-1].get("text"))
    assert await product_rows(app) == before

    await app.say(COORDINATOR, "pulse jpd open 2026-09-11", channel_id=OAKFIELD, team_id=OAKFIELD)
    opened = await product_rows(app)
    assert await app.say(COORDINATOR, "pulse jpd open 2026-09-12", channel_id=OAKFIELD, team_id=OAKFIELD) == 202
    assert "Exchange 1 is still open" in str(teams.messages_in(OAKFIELD)[-1].get("text"))
    shown = await take_part(app, teams, ANA, "knitting", "reading")
    assert "no topic 'knitting'" in " ".join(shown)  # the form again, with the problem on it
    assert await product_rows(app) == opened
    assert await app.say(STAFF_A[5], "pulse jpd close", channel_id=OAKFIELD, team_id=OAKFIELD) == 202
    assert "only Pulse coordinators can run JPD exchanges" in str(teams.messages_in(OAKFIELD)[-1].get("text"))
    assert await product_rows(app) == opened


async def installed_oakfield(app: TeamsHarness) -> str:
    return await app.install_team(OAKFIELD, name="Oakfield Primary")


async def test_someone_who_left_the_team_does_not_keep_the_rest_from_their_introduction(
    app: TeamsHarness, teams: TeamsDouble, clock: SimClock
) -> None:
    await installed_oakfield(app)
    await app.say(COORDINATOR, "pulse jpd open 2026-09-11", channel_id=OAKFIELD, team_id=OAKFIELD)
    await take_part(app, teams, ANA, "feedback", "reading")
    await take_part(app, teams, BEN, "reading", "feedback")
    teams.teams[OAKFIELD].members.remove(ANA)  # Ana, first in the group, leaves before the deadline
    clock.advance(dt.timedelta(days=5))
    await Clock(app.ctx).exchanges()
    assert "could offer" in chat_texts(teams, BEN)
    assert "could offer" not in chat_texts(teams, ANA)
