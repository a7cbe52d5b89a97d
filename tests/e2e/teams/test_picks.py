"""The trust-behaviour picks in Teams, end to end: the round card's button opens the form for the
clicker alone, a bad form comes back with its problems and stores nothing, a good one is stored
anonymously (through surveys.picks, as Slack's form is) and sending it again replaces it."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

import pytest
from sqlalchemy import select

from bot.logs import quiet_chatty_loggers
from bot.teams.cards import ANSWER_VERB
from bot.teams.ids import conversation_key
from bot.teams.picks_cards import FIX_THEM, OPEN_VERB, SAVE_VERB
from storage.models import HeldAnswer, SealedCount
from surveys import operations
from surveys.closing import close_due_rounds
from surveys.picks import TOOK_PART
from surveys.scoring import Named
from tests.e2e.teams.conftest import LEADERS, OAKFIELD, STAFF_A, installed, make_teams_survey
from tests.harness import SimClock
from tests.teams_double import TeamsDouble, cards_of, validate_card
from tests.teams_double.harness import TeamsHarness, texts_of

BEHAVIOURS = "leadership-trust-behaviours"


def actions(card: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    def walk(elements: list[dict[str, Any]]) -> None:
        for element in elements:
            out.extend(a for a in element.get("actions") or [] if a.get("type") == "Action.Execute")
            walk(element.get("items") or [])

    walk(card["body"])
    return out


def inputs(card: dict[str, Any]) -> dict[str, list[str]]:
    """Each multi-select's filled-in value, by input id."""
    out: dict[str, list[str]] = {}

    def walk(elements: list[dict[str, Any]]) -> None:
        for element in elements:
            if element.get("type") == "Input.ChoiceSet":
                out[element["id"]] = [v for v in str(element.get("value") or "").split(",") if v]
            walk(element.get("items") or [])

    walk(card["body"])
    return out


def with_verb(card: dict[str, Any], verb: str) -> dict[str, Any]:
    [action] = [a for a in actions(card) if a["verb"] == verb]
    return action


def filled(save: dict[str, Any], picks: dict[str, list[str]]) -> dict[str, Any]:
    """The Save button as Teams sends it: its data, with each input's value as "a,b,c"."""
    values = {f"p:{BEHAVIOURS}:{name}": ",".join(ids) for name, ids in picks.items()}
    return {**save, "data": {**save["data"], **values}}


async def open_exercise(app: TeamsHarness, teams: TeamsDouble, **survey: Any) -> tuple[str, dict[str, Any]]:
    await installed(app)
    created = await make_teams_survey(
        app, bank_ids=[BEHAVIOURS], items_per_round=1, audience=[conversation_key(OAKFIELD)], **survey
    )
    round_, report = await operations.open_and_send(
        app.db, app.ctx.banks, app.platform, created.id, now=app.ctx.clock()
    )
    assert round_ is not None and report.sent == 1
    [message] = [m for m in teams.messages_in(OAKFIELD) if cards_of(m)]
    return message["id"], cards_of(message)[0]


async def rows(app: TeamsHarness) -> list[HeldAnswer]:
    async with app.db.session() as s:
        return list((await s.scalars(select(HeldAnswer))).all())


async def test_picks_are_chosen_in_a_form_checked_stored_anonymously_and_replaced(
    app: TeamsHarness, teams: TeamsDouble
) -> None:
    message_id, card = await open_exercise(app, teams)
    ids = [i.id for i in app.ctx.banks[BEHAVIOURS].items]
    assert validate_card(card) == []
    # No Strong/Weak buttons any more: one button to the form.
    assert [a["verb"] for a in actions(card)] == [OPEN_VERB] and ANSWER_VERB not in json.dumps(card)
    person = STAFF_A[0]

    async def click(who: str, action: dict[str, Any], channel: str = OAKFIELD) -> dict[str, Any]:
        status, body = await app.click(who, action, channel_id=channel, reply_to=message_id)
        assert status == 200 and body["statusCode"] == 200
        assert validate_card(body["value"]) == []
        return dict(body["value"])

    form = await click(person, with_verb(card, OPEN_VERB))
    assert set(inputs(form)) == {f"p:{BEHAVIOURS}:{p}:{s}" for p in ("self", "team") for s in ("strong", "weak")}
    assert all(v == [] for v in inputs(form).values())
    assert person not in json.dumps(form)
    save = with_verb(form, SAVE_VERB)

    # Invalid: the same behaviour strong and weak for oneself, too many for the team.
    bad = await click(person, filled(save, {"self:strong": ids[:2], "self:weak": [ids[0]], "team:strong": ids[:6]}))
    assert texts_of(bad)[0] == FIX_THEM
    shown = texts_of(bad)
    assert any("already among the strongest" in t for t in shown) and any("pick at most 5" in t for t in shown)
    # What was sent stays filled in, to be corrected.
    assert inputs(bad)[f"p:{BEHAVIOURS}:team:strong"] == ids[:6]
    assert await rows(app) == []

    good = {"self:strong": ids[:5], "self:weak": ids[5:8], "team:strong": ids[8:10], "team:weak": [ids[0]]}
    saved = await click(person, filled(save, good))
    assert (
        "recorded anonymously (for yourself: 5 strongest, 3 weakest; for the team: 2 strongest, 1 weakest)"
        in (texts_of(saved)[0])
    )
    assert inputs(saved) == {f"p:{BEHAVIOURS}:{k}": v for k, v in good.items()}
    stored = await rows(app)
    assert len(stored) == 2  # one held ballot per perspective
    assert {r.segment for r in stored} == {conversation_key(OAKFIELD)}
    assert person not in json.dumps([r.respondent_key for r in stored])

    # Opening again (from the channel's card) shows the earlier picks; saving again replaces them.
    again = await click(person, with_verb(card, OPEN_VERB))
    assert inputs(again) == {f"p:{BEHAVIOURS}:{k}": v for k, v in good.items()}
    assert "Change my picks" not in json.dumps(again)
    changed = await click(
        person, filled(with_verb(again, SAVE_VERB), {"self:strong": [ids[12]], "team:weak": [ids[12]]})
    )
    assert "updated" in texts_of(changed)[0]
    assert len(await rows(app)) == 2

    # Four more people, so the counts can be checked as the digest will read them.
    for other in STAFF_A[1:5]:
        await click(other, filled(save, {"self:strong": [ids[12]], "team:weak": [ids[12], ids[1]]}))
    assert len(await rows(app)) == 10
    await close_due_rounds(app.db, now=app.ctx.clock() + dt.timedelta(days=30))
    async with app.db.session() as s:
        stored = list((await s.scalars(select(SealedCount))).all())
    people = {
        p: sum(r.n for r in stored if r.item_id == BEHAVIOURS and r.facet == p and r.option == TOOK_PART)
        for p in ("self", "team")
    }
    assert people == {"self": 5, "team": 5}

    def named(item: str, perspective: str) -> Named:
        mine = [r for r in stored if r.item_id == item and r.facet == perspective]
        return Named(
            sum(r.n for r in mine if r.option == "strong"),
            sum(r.n for r in mine if r.option == "weak"),
            people[perspective],
        )

    assert named(ids[12], "self") == Named(5, 0, 5) and named(ids[12], "team") == Named(0, 5, 5)
    assert named(ids[1], "team") == Named(0, 4, 5)
    # Nobody else's view changed: the channel's card was neither edited nor followed by a reply.
    assert teams.calls_to("PUT") == []
    assert len([m for m in teams.messages_in(OAKFIELD) if cards_of(m)]) == 1


async def test_picks_outside_the_audience_or_after_closing_store_nothing(
    app: TeamsHarness, teams: TeamsDouble, clock: SimClock
) -> None:
    message_id, card = await open_exercise(app, teams, round_hours=2)
    ids = [i.id for i in app.ctx.banks[BEHAVIOURS].items]
    form = (await app.click(STAFF_A[0], with_verb(card, OPEN_VERB), channel_id=OAKFIELD, reply_to=message_id))[1]
    save = filled(with_verb(form["value"], SAVE_VERB), {"self:strong": ids[:1]})

    status, body = await app.click(STAFF_A[0], save, channel_id=LEADERS, reply_to=message_id)
    assert status == 200 and "could not be recorded" in texts_of(body["value"])[0]
    forged = {**save, "data": {**save["data"], "r": "not-a-round"}}
    status, body = await app.click(STAFF_A[0], forged, channel_id=OAKFIELD, reply_to=message_id)
    assert status == 200 and "no longer available" in texts_of(body["value"])[0]
    assert await rows(app) == []

    clock.advance(dt.timedelta(hours=3))
    status, body = await app.click(STAFF_A[0], save, channel_id=OAKFIELD, reply_to=message_id)
    assert status == 200 and "closed" in texts_of(body["value"])[0] and actions(body["value"]) == []
    status, body = await app.click(STAFF_A[1], with_verb(card, OPEN_VERB), channel_id=OAKFIELD, reply_to=message_id)
    assert status == 200 and "closed" in texts_of(body["value"])[0] and inputs(body["value"]) == {}
    assert await rows(app) == []


async def test_no_log_line_joins_a_person_to_their_picks(
    app: TeamsHarness, teams: TeamsDouble, caplog: pytest.LogCaptureFixture
) -> None:
    quiet_chatty_loggers()
    caplog.set_level(logging.DEBUG)
    message_id, card = await open_exercise(app, teams)
    ids = [i.id for i in app.ctx.banks[BEHAVIOURS].items]
    person = STAFF_A[3]
    form = (await app.click(person, with_verb(card, OPEN_VERB), channel_id=OAKFIELD, reply_to=message_id))[1]
    save = filled(with_verb(form["value"], SAVE_VERB), {"self:strong": ids[:2], "team:weak": ids[2:3]})
    assert (await app.click(person, save, channel_id=OAKFIELD, reply_to=message_id))[0] == 200
    assert len(await rows(app)) == 2
    who = {person, teams.account(person)["id"], teams.account(person)["name"]}
    for record in caplog.records:
        line = record.getMessage()
        assert not (any(w in line for w in who) and any(i in line for i in ids[:3])), line
