"""Every /pulse command for every role, through signed HTTP against the Slack double.

Coordinators may do everything; leaders may see help, their surveys and results; staff and
anyone else get help and a polite refusal for the rest, and a refusal changes nothing at all:
the database is row-for-row the same, nothing is posted and no modal opens.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from bot.commands.parser import COMMANDS
from bot.slack.views import DELETE_CONFIRMED
from storage.models import Holiday, Round, Survey
from surveys import calendar
from tests.e2e.conftest import make_survey
from tests.e2e.pulse_support import (
    ADMIN,
    COORDINATORS,
    LEADER,
    LEADERS,
    OUTSIDER,
    SCHOOL_A,
    STAFF,
    press,
    pulse,
    snapshot,
)
from tests.harness import Harness
from tests.slack_double import SlackDouble, validate_blocks, validate_view


@dataclass
class World:
    survey_id: int
    holiday_id: int


async def setup(app: Harness) -> World:
    survey = await make_survey(app, name="Oakfield trust")
    async with app.db.session() as session:
        holiday = await calendar.add_holiday(
            session, survey_id=survey.id, starts=dt.date(2026, 12, 21), ends=dt.date(2027, 1, 1), label="Winter break"
        )
    return World(survey.id, holiday.id)


async def survey_row(app: Harness, survey_id: int) -> Survey | None:
    async with app.db.session() as session:
        return await session.get(Survey, survey_id)


def opened_modal(double: SlackDouble) -> dict[str, Any]:
    [opened] = [v for v in double.views if v["kind"] == "open"]
    assert validate_view(opened["view"], surface="modal") == []
    return opened["view"]


# -- what each command does when allowed --------------------------------------------------------

Check = Callable[[Harness, World, dict[str, Any] | None], Awaitable[None]]


async def saw_help(app: Harness, w: World, reply: dict[str, Any] | None) -> None:
    assert reply is not None
    for verb in COMMANDS:
        assert f"`/pulse {verb}" in reply["text"]


async def saw_surveys(app: Harness, w: World, reply: dict[str, Any] | None) -> None:
    assert reply is not None and "Oakfield trust" in reply["text"] and "active" in reply["text"]


async def opened_new(app: Harness, w: World, reply: dict[str, Any] | None) -> None:
    view = opened_modal(app.double)
    assert view["title"]["text"] == "New survey"


async def opened_edit(app: Harness, w: World, reply: dict[str, Any] | None) -> None:
    view = opened_modal(app.double)
    assert view["title"]["text"] == f"Edit survey {w.survey_id}"
    name = next(b for b in view["blocks"] if b["block_id"] == "name")
    assert name["element"]["initial_value"] == "Oakfield trust"


async def paused(app: Harness, w: World, reply: dict[str, Any] | None) -> None:
    survey = await survey_row(app, w.survey_id)
    assert survey is not None and survey.paused
    assert reply is not None and "paused" in reply["text"]


async def resumed(app: Harness, w: World, reply: dict[str, Any] | None) -> None:
    survey = await survey_row(app, w.survey_id)
    assert survey is not None and not survey.paused
    assert reply is not None and "resumed" in reply["text"]


async def asked_to_confirm(app: Harness, w: World, reply: dict[str, Any] | None) -> None:
    assert reply is not None and validate_blocks(reply["blocks"]) == []
    assert DELETE_CONFIRMED in json.dumps(reply["blocks"])
    assert await survey_row(app, w.survey_id) is not None  # not yet


async def nothing_to_close(app: Harness, w: World, reply: dict[str, Any] | None) -> None:
    # The round it would close, and the confirmation, are tested in tests/e2e/test_close_round.py.
    assert reply is not None and f"Survey {w.survey_id} has no open round; nothing to close." == reply["text"]


async def sent(app: Harness, w: World, reply: dict[str, Any] | None) -> None:
    async with app.db.session() as session:
        rounds = (await session.scalars(select(Round))).all()
    assert [r.survey_id for r in rounds] == [w.survey_id]
    assert reply is not None and "Opened round 1" in reply["text"] and "2 message(s) queued" in reply["text"]
    # Queued, not sent, until the outbox is drained (the clock does it every few seconds).
    assert app.double.messages_in(SCHOOL_A) == []
    await app.drain_outbox()
    assert len(app.double.messages_in(SCHOOL_A)) == 1


async def posted_digest(app: Harness, w: World, reply: dict[str, Any] | None) -> None:
    assert len(app.double.messages_in(LEADERS)) >= 1
    assert reply is not None and "Posted the digest" in reply["text"]


async def saw_banks(app: Harness, w: World, reply: dict[str, Any] | None) -> None:
    assert reply is not None
    for bank in app.ctx.banks:
        assert f"`{bank.id}`" in reply["text"]


async def saw_status(app: Harness, w: World, reply: dict[str, Any] | None) -> None:
    assert reply is not None and "Oakfield trust" in reply["text"] and "Next round:" in reply["text"]


async def saw_results(app: Harness, w: World, reply: dict[str, Any] | None) -> None:
    assert reply is not None and reply["blocks"] and validate_blocks(reply["blocks"]) == []
    assert reply.get("response_type") == "ephemeral"
    assert app.double.messages_in(LEADERS) == []  # shown to the asker, not posted


async def added_holiday(app: Harness, w: World, reply: dict[str, Any] | None) -> None:
    async with app.db.session() as session:
        labels = sorted(h.label for h in (await session.scalars(select(Holiday))).all())
    assert labels == ["Half term", "Winter break"]
    assert reply is not None and "Added holiday" in reply["text"]


async def listed_holidays(app: Harness, w: World, reply: dict[str, Any] | None) -> None:
    assert reply is not None and "Winter break" in reply["text"] and f"`{w.holiday_id}`" in reply["text"]


async def removed_holiday(app: Harness, w: World, reply: dict[str, Any] | None) -> None:
    async with app.db.session() as session:
        assert (await session.scalars(select(Holiday))).all() == []
    assert reply is not None and "Removed holiday" in reply["text"]


async def saw_topics(app: Harness, w: World, reply: dict[str, Any] | None) -> None:
    assert reply is not None and "*JPD topics* (12)" in reply["text"] and "Feedback pupils act on" in reply["text"]


ANYONE, LEADERS_TOO, COORDINATOR_ONLY = "anyone", "leaders", "coordinators"
# (text, who may, what happens, replies?)
CASES: list[tuple[str, str, Check, bool]] = [
    ("help", ANYONE, saw_help, True),
    ("surveys", LEADERS_TOO, saw_surveys, True),
    ("new", COORDINATOR_ONLY, opened_new, False),
    ("edit {id}", COORDINATOR_ONLY, opened_edit, False),
    ("pause {id}", COORDINATOR_ONLY, paused, True),
    ("resume {id}", COORDINATOR_ONLY, resumed, True),
    ("delete {id}", COORDINATOR_ONLY, asked_to_confirm, True),
    ("send-now {id}", COORDINATOR_ONLY, sent, True),
    ("close {id}", COORDINATOR_ONLY, nothing_to_close, True),
    ("digest-now {id}", COORDINATOR_ONLY, posted_digest, True),
    ("banks", COORDINATOR_ONLY, saw_banks, True),
    ("status", COORDINATOR_ONLY, saw_status, True),
    ("status {id}", COORDINATOR_ONLY, saw_status, True),
    ("results {id}", LEADERS_TOO, saw_results, True),
    ("holidays add {id} 2026-10-26 2026-10-30 Half term", COORDINATOR_ONLY, added_holiday, True),
    ("holidays list", COORDINATOR_ONLY, listed_holidays, True),
    ("holidays remove {hid}", COORDINATOR_ONLY, removed_holiday, True),
    # Opening, answering and closing an exchange: tests/e2e/test_jpd_flow.py.
    ("jpd topics", COORDINATOR_ONLY, saw_topics, True),
]
ROLES = {"coordinator": ADMIN, "leader": LEADER, "staff": STAFF, "outsider": OUTSIDER}
ALLOWED = {
    "coordinator": {ANYONE, LEADERS_TOO, COORDINATOR_ONLY},
    "leader": {ANYONE, LEADERS_TOO},
    "staff": {ANYONE},
    "outsider": {ANYONE},
}


def test_every_command_is_covered() -> None:
    assert {text.split()[0] for text, *_ in CASES} == set(COMMANDS)


async def run(app: Harness, user: str, text: str, replies: bool) -> dict[str, Any] | None:
    if replies:
        return await pulse(app, user, text)
    assert await app.command(user, text) == 200
    await app.wait_for(lambda: bool(app.double.views) or bool(app.double.responses))
    return app.double.responses[0]["body"] if app.double.responses else None


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize(("text", "who", "check", "replies"), CASES, ids=[c[0].split(" {")[0] for c in CASES])
async def test_command_for_role(app: Harness, role: str, text: str, who: str, check: Check, replies: bool) -> None:
    w = await setup(app)
    if text.startswith("resume"):
        async with app.db.session() as session:
            survey = await session.get(Survey, w.survey_id)
            assert survey is not None
            survey.paused = True
    command = text.format(id=w.survey_id, hid=w.holiday_id)
    before = await snapshot(app)
    allowed = who in ALLOWED[role]

    reply = await run(app, ROLES[role], command, replies or not allowed)

    if allowed:
        await check(app, w, reply)
        return
    assert reply is not None
    assert reply["text"].startswith("Sorry, only Pulse coordinators") and "Nothing was changed" in reply["text"]
    assert reply.get("response_type") == "ephemeral"
    assert await snapshot(app) == before
    assert app.double.messages == [] and app.double.views == []
    assert app.double.calls_to("chat.postMessage") == []


@pytest.mark.parametrize("user", COORDINATORS)
async def test_admins_owners_configured_and_group_members_are_coordinators(app: Harness, user: str) -> None:
    w = await setup(app)
    reply = await pulse(app, user, f"pause {w.survey_id}")
    assert "paused" in reply["text"]
    survey = await survey_row(app, w.survey_id)
    assert survey is not None and survey.paused


async def test_a_leader_sees_only_the_surveys_they_lead(app: Harness, double: SlackDouble) -> None:
    double.channels["C0OTHERLEADS"] = {"name": "other-leaders", "members": [ADMIN]}
    w = await setup(app)
    other = await make_survey(app, name="Elsewhere", digest_channel="C0OTHERLEADS")
    reply = await pulse(app, LEADER, "surveys")
    assert "Oakfield trust" in reply["text"] and "Elsewhere" not in reply["text"]
    refused = await pulse(app, LEADER, f"results {other.id}")
    assert refused["text"].startswith("Sorry, only Pulse coordinators and the survey's leaders")
    assert w.survey_id != other.id


async def test_staff_asking_about_a_survey_that_does_not_exist_learn_nothing(app: Harness) -> None:
    reply = await pulse(app, STAFF, "results 999")
    assert reply["text"].startswith("Sorry, only")
    assert "no survey" not in reply["text"]
    reply = await pulse(app, ADMIN, "results 999")
    assert reply["text"].startswith("There is no survey 999")


async def test_delete_is_done_only_after_the_confirm_button(app: Harness, double: SlackDouble) -> None:
    w = await setup(app)
    await pulse(app, ADMIN, f"delete {w.survey_id}")
    before = await snapshot(app)
    # Someone else pressing it (say, a forwarded payload) is refused and nothing changes.
    assert await press(app, STAFF, DELETE_CONFIRMED, str(w.survey_id)) == 200
    await app.wait_for(lambda: len(double.responses) == 2)
    assert double.responses[1]["body"]["text"].startswith("Sorry, only")
    assert await snapshot(app) == before
    # "Keep it" keeps it.
    assert await press(app, ADMIN, "pulse:delete-kept", str(w.survey_id)) == 200
    await app.wait_for(lambda: len(double.responses) == 3)
    assert "nothing was deleted" in double.responses[2]["body"]["text"]
    assert await snapshot(app) == before
    # The coordinator's confirmation deletes it, with its holidays.
    assert await press(app, ADMIN, DELETE_CONFIRMED, str(w.survey_id)) == 200
    await app.wait_for(lambda: len(double.responses) == 4)
    assert double.responses[3]["body"]["text"].startswith(f"Deleted survey {w.survey_id}")
    assert double.responses[3]["body"].get("replace_original") is True
    assert await survey_row(app, w.survey_id) is None
    async with app.db.session() as session:
        assert (await session.scalars(select(Holiday))).all() == []
    # Pressing it again is harmless.
    assert await press(app, ADMIN, DELETE_CONFIRMED, str(w.survey_id)) == 200
    await app.wait_for(lambda: len(double.responses) == 5)
    assert "no survey" in double.responses[4]["body"]["text"]
