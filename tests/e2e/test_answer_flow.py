"""A round is posted, clicked, changed, and digested, through the real app over signed HTTP."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from urllib.parse import urlencode

import pytest
from sqlalchemy import Date, DateTime, Time, func, inspect, select, text

from bot.logs import quiet_chatty_loggers
from storage.db import Database
from storage.models import HeldAnswer, Round, Survey
from surveys import management, operations
from surveys.banks import BankRegistry
from surveys.config import SurveyConfig
from tests.e2e.conftest import LEADERS, SCHOOL_A, SCHOOL_B, STAFF_A, make_survey
from tests.harness import Harness, SimClock, buttons_of, signed_headers
from tests.slack_double import SlackDouble, validate_blocks


async def _open(app: Harness, survey_id: int) -> None:
    round_, report = await operations.open_and_send(
        app.db, app.ctx.banks, app.ctx.require_platform(), survey_id, now=app.ctx.clock()
    )
    assert round_ is not None and report.sent == 2


async def _count(app: Harness) -> int:
    async with app.db.session() as s:
        return int(await s.scalar(select(func.count()).select_from(HeldAnswer)) or 0)


async def test_round_posted_to_each_school_within_block_kit_limits(app: Harness, double: SlackDouble) -> None:
    survey = await make_survey(app)
    await _open(app, survey.id)
    for channel in (SCHOOL_A, SCHOOL_B):
        [message] = double.messages_in(channel)
        assert validate_blocks(message["blocks"]) == []
        buttons = buttons_of(message)
        assert len(buttons) == 2
        assert all(len(options) == 4 for options in buttons.values())


async def test_click_recorded_confirmed_privately_and_changed_not_added(app: Harness, double: SlackDouble) -> None:
    survey = await make_survey(app)
    await _open(app, survey.id)
    buttons = buttons_of(double.messages_in(SCHOOL_A)[0])
    item_id, options = next(iter(buttons.items()))
    agree = next(b for b in options if '"o":"agree"' in b["value"])
    disagree = next(b for b in options if '"o":"disagree"' in b["value"])

    assert await app.click(STAFF_A[0], SCHOOL_A, agree) == 200
    await app.wait_for(lambda: len(double.ephemerals) == 1)
    assert double.ephemerals[0]["user"] == STAFF_A[0]
    assert "recorded anonymously" in double.ephemerals[0]["text"]
    assert double.messages_in(SCHOOL_A)[-1]["blocks"] == double.messages_in(SCHOOL_A)[0]["blocks"]

    assert await app.click(STAFF_A[0], SCHOOL_A, disagree) == 200
    await app.wait_for(lambda: len(double.ephemerals) == 2)
    assert "Changed from *Agree* to *Disagree*" in double.ephemerals[1]["text"]
    async with app.db.session() as s:
        rows = (await s.scalars(select(HeldAnswer))).all()
    assert [(r.item_id, r.option, r.segment, r.valence) for r in rows] == [(item_id, "disagree", SCHOOL_A, -1)]


async def test_forged_and_stale_requests_get_401_and_record_nothing(app: Harness, double: SlackDouble) -> None:
    survey = await make_survey(app)
    await _open(app, survey.id)
    button = next(iter(buttons_of(double.messages_in(SCHOOL_A)[0]).values()))[0]
    payload = {
        "type": "block_actions",
        "user": {"id": STAFF_A[0]},
        "channel": {"id": SCHOOL_A},
        "team": {"id": double.team_id},
        "actions": [{**button, "type": "button"}],
    }
    body = urlencode({"payload": json.dumps(payload)})

    forged = await app.post(body, signed_headers(body, secret="not-the-secret"))
    stale = await app.post(body, signed_headers(body, timestamp=int(time.time()) - 301))
    unsigned = await app.post(body, {"Content-Type": "application/x-www-form-urlencoded"})
    assert [forged[0], stale[0], unsigned[0]] == [401, 401, 401]
    assert await _count(app) == 0
    assert double.ephemerals == []


async def test_digest_counts_and_suppresses_below_k(app: Harness, double: SlackDouble) -> None:
    survey = await make_survey(app, k=5)
    await _open(app, survey.id)
    buttons = buttons_of(double.messages_in(SCHOOL_A)[0])
    (first, first_opts), (second, second_opts) = list(buttons.items())
    clicks = 0
    for i, user in enumerate(STAFF_A[:6]):  # 6 answer the first item: 4 favourable
        option = "agree" if i < 4 else "strongly-disagree"
        await app.click(user, SCHOOL_A, next(b for b in first_opts if f'"o":"{option}"' in b["value"]))
        clicks += 1
    for user in STAFF_A[:4]:  # only 4 answer the second: hidden at k=5
        await app.click(user, SCHOOL_A, second_opts[0])
        clicks += 1
    await app.wait_for(lambda: len(double.ephemerals) == clicks)

    # A digest reports closed rounds only, so that two digests never differ by one late answer.
    closed = app.ctx.clock() + dt.timedelta(hours=72)
    digest = await operations.post_digest(app.db, app.ctx.banks, app.ctx.require_platform(), survey.id, now=closed)
    assert digest is not None
    by_item = {i.item_id: i for i in digest.items}
    assert (by_item[first].n, by_item[first].favourable_pct, by_item[first].suppressed) == (6, 66.7, False)
    assert (by_item[second].n, by_item[second].favourable_pct, by_item[second].suppressed) == (None, None, True)
    assert digest.participation.audience_size == 24
    [posted] = double.messages_in(LEADERS)
    assert validate_blocks(posted["blocks"]) == []
    rendered = json.dumps(posted["blocks"])
    assert "67%" in rendered and "hidden for anonymity" in rendered


async def test_no_table_of_answers_can_hold_a_user_id_or_a_time(app: Harness) -> None:
    async with app.db.engine.connect() as conn:
        held = await conn.run_sync(
            lambda c: {col["name"]: col["type"] for col in inspect(c).get_columns("held_answers")}
        )
        sealed = await conn.run_sync(lambda c: {col["name"] for col in inspect(c).get_columns("sealed_counts")})
    # Held while the round is open: a key from the round's key, and `seq` (when the click was made,
    # to keep one person's latest) until sealing, which keeps neither.
    assert set(held) == {
        "round_id",
        "item_id",
        "facet",
        "respondent_key",
        "bank_id",
        "bank_version",
        "segment",
        "option",
        "score",
        "valence",
        "seq",
        "picks",
    }
    assert not [name for name, kind in held.items() if isinstance(kind, Date | DateTime | Time)]
    assert sealed == {
        "round_id",
        "bank_id",
        "item_id",
        "facet",
        "segment",
        "score",
        "valence",
        "option",
        "bank_version",
        "n",
    }


async def test_no_log_line_joins_a_person_to_an_answer(
    app: Harness,
    double: SlackDouble,
    caplog,  # type: ignore[no-untyped-def]
) -> None:
    quiet_chatty_loggers()
    caplog.set_level(logging.DEBUG)
    survey = await make_survey(app)
    await _open(app, survey.id)
    button = next(iter(buttons_of(double.messages_in(SCHOOL_A)[0]).values()))[0]
    await app.click(STAFF_A[3], SCHOOL_A, button)
    await app.wait_for(lambda: len(double.ephemerals) == 1)
    option = json.loads(button["value"])["o"]
    assert caplog.records, "expected the product to log something at DEBUG"
    for record in caplog.records:
        line = record.getMessage()
        assert not (STAFF_A[3] in line and option in line), line


async def test_healthz(app: Harness) -> None:
    assert app.http is not None
    async with app.http.get(f"{app.url}/healthz") as resp:
        assert resp.status == 200
        assert (await resp.json())["database"] == "up"


async def test_an_answer_the_database_could_not_take_is_never_silently_lost(
    app: Harness, double: SlackDouble, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    survey = await make_survey(app)
    await _open(app, survey.id)
    button = next(iter(buttons_of(double.messages_in(SCHOOL_A)[0]).values()))[0]
    working = app.ctx.db
    app.ctx.db = Database(f"sqlite+aiosqlite:///{tmp_path}/missing/dir/pulse.db")  # cannot be opened
    try:
        assert await app.click(STAFF_A[1], SCHOOL_A, button) == 200
        await app.wait_for(lambda: len(double.ephemerals) == 1)
    finally:
        await app.ctx.db.dispose()
        app.ctx.db = working
    assert "could not be saved" in double.ephemerals[0]["text"]
    assert await _count(app) == 0


async def test_a_round_keeps_the_k_it_opened_with_when_the_survey_is_edited_lower(
    app: Harness, double: SlackDouble
) -> None:
    survey = await make_survey(app, k=7)
    await _open(app, survey.id)
    lowered = SurveyConfig.model_validate(
        {
            "name": "Trust pulse",
            "bank_ids": ["staff-trust-in-leadership"],
            "audience": [SCHOOL_A, SCHOOL_B],
            "digest_channel": LEADERS,
            "items_per_round": 2,
            "k": 3,
        }
    )
    async with app.db.session() as session:
        await management.update_survey(session, survey.id, lowered, workspace_id=None, now=app.ctx.clock())
    async with app.db.session() as session:
        assert (await session.get(Survey, survey.id)).k == 3  # type: ignore[union-attr]
        assert (await session.scalar(select(Round.k).where(Round.survey_id == survey.id))) == 7

    # Four people answer one item, not all alike: shown at k = 3, hidden at the round's k = 7.
    item, options = next(iter(buttons_of(double.messages_in(SCHOOL_A)[0]).items()))
    for i, user in enumerate(STAFF_A[:4]):
        option = "agree" if i % 2 else "disagree"
        await app.click(user, SCHOOL_A, next(b for b in options if f'"o":"{option}"' in b["value"]))
    await app.wait_for(lambda: len(double.ephemerals) == 4)

    closed = app.ctx.clock() + dt.timedelta(hours=72)
    digest = await operations.post_digest(app.db, app.ctx.banks, app.ctx.require_platform(), survey.id, now=closed)
    assert digest is not None
    stat = next(i for i in digest.items if i.item_id == item)
    assert (stat.n, stat.favourable_pct, stat.suppressed) == (None, None, True)
    assert next(cell for cell in stat.segments if cell.segment == SCHOOL_A).suppressed
    rendered = json.dumps(double.messages_in(LEADERS)[-1]["blocks"])
    assert "groups under 7 people are hidden" in rendered and "fewer than 7 people" in rendered
    assert "4 people" not in rendered and "4 answers" not in rendered


async def test_every_product_connection_overwrites_what_it_deletes(app: Harness) -> None:
    if app.db.engine.dialect.name != "sqlite":
        pytest.skip("secure_delete is SQLite's; PostgreSQL is vacuumed after sealing")
    for _ in range(2):  # a fresh connection each time, from the product's own engine
        async with app.db.engine.connect() as conn:
            assert await conn.scalar(text("PRAGMA secure_delete")) == 1


async def test_two_banks_sharing_an_item_id_post_and_count_apart_and_old_buttons_still_work(
    db_url: str, double: SlackDouble, clock: SimClock, banks: BankRegistry
) -> None:
    lead = banks["staff-trust-in-leadership"]
    first = lead.items[0]
    # Two one-item banks whose items share an id, as two schools' own banks might.
    solo = [lead.model_copy(update={"id": f"solo-{n}", "items": [first]}) for n in "ab"]
    registry = BankRegistry([*banks, *solo])
    async with Harness(db_url, double=double, clock=clock, banks=registry) as app:
        survey = await make_survey(app, bank_ids=["solo-a", "solo-b"], audience=[SCHOOL_A], items_per_round=2)
        round_, report = await operations.open_and_send(
            app.db, app.ctx.banks, app.ctx.require_platform(), survey.id, now=app.ctx.clock()
        )
        assert round_ is not None and report.sent == 1  # Slack refuses duplicate block ids: it was accepted
        [message] = double.messages_in(SCHOOL_A)
        assert validate_blocks(message["blocks"]) == []
        ids = [b["block_id"] for b in message["blocks"] if "block_id" in b]
        assert len(ids) == len(set(ids))

        values = [json.loads(b["value"]) for options in buttons_of(message).values() for b in options]
        agree_a = next(v for v in values if v["b"] == "solo-a" and v["o"] == "agree")
        disagree_b = next(v for v in values if v["b"] == "solo-b" and v["o"] == "disagree")
        for value in (agree_a, disagree_b):
            await app.click(STAFF_A[0], SCHOOL_A, {"action_id": f"answer:{first.id}", "value": json.dumps(value)})
        # A button posted before banks were named in it: its item is taken from the round's first bank.
        old = {k: v for k, v in agree_a.items() if k != "b"}
        await app.click(STAFF_A[1], SCHOOL_A, {"action_id": f"answer:{first.id}", "value": json.dumps(old)})
        await app.wait_for(lambda: len(double.ephemerals) == 3)
        assert all("recorded anonymously" in e["text"] for e in double.ephemerals)
        async with app.db.session() as session:
            held = (await session.execute(select(HeldAnswer.bank_id, HeldAnswer.option))).all()
        assert sorted(held) == [("solo-a", "agree"), ("solo-a", "agree"), ("solo-b", "disagree")]
