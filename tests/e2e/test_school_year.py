"""A school year through the real app: holidays skip rounds, quiet hours defer them, one reminder
goes only to people who have not answered, and closing forgets where messages went.

The clock's own job methods (bot/scheduler.Clock) are called at simulated times, so the same code
the scheduler runs is what is tested; answers arrive as signed HTTP requests; Slack is the double.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import sqlite3
import time
from collections.abc import AsyncIterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import make_url

from bot.logs import quiet_chatty_loggers
from bot.scheduler import Clock
from storage.db import Database
from storage.models import Delivery, HeldAnswer, Round, SentReminder, Survey
from surveys import calendar
from surveys.banks import BankRegistry
from surveys.calendar import RoundTrigger
from surveys.closing import awaiting_scrub
from surveys.config import SurveyConfig
from tests.harness import Harness, SimClock, buttons_of
from tests.slack_double import SlackDouble, validate_blocks

LONDON = ZoneInfo("Europe/London")
SCHOOL_A, SCHOOL_B, SMALL, LEADERS = "C0SCHOOLA", "C0SCHOOLB", "C0SMALL", "C0LEADERS"
STAFF_A = [f"UKA{n:03d}" for n in range(6)]
STAFF_B = [f"UKB{n:03d}" for n in range(6)]
FIVE = ["UFIVEAA", "UFIVEBB", "UFIVECC", "UFIVEDD", "UFIVEEE"]
GROUP = "S0STAFF"
MIXED, GONE = "C0MIXED", "UBADGONE"  # the double refuses anything for a U-BAD id: user_not_found


def london(y: int, m: int, d: int, hh: int = 9, mm: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=LONDON).astimezone(dt.UTC)


MONDAY = london(2026, 9, 7)  # 09:00 on a Monday, term time


@pytest.fixture
async def double() -> AsyncIterator[SlackDouble]:
    d = SlackDouble(
        channels={
            SCHOOL_A: {"name": "school-a", "members": STAFF_A},
            SCHOOL_B: {"name": "school-b", "members": STAFF_B},
            SMALL: {"name": "small-school", "members": FIVE},
            MIXED: {"name": "mixed", "members": [*FIVE[:3], GONE]},
            LEADERS: {"name": "leaders", "members": ["ULEAD01"]},
        },
        usergroups={GROUP: FIVE},
    )
    async with d:
        yield d


@pytest.fixture
def sim() -> SimClock:
    return SimClock(MONDAY)


@pytest.fixture
async def app(db_url: str, double: SlackDouble, sim: SimClock, banks: BankRegistry) -> AsyncIterator[Harness]:
    async with Harness(db_url, double=double, clock=sim, banks=banks) as h:
        yield h


@pytest.fixture
def clock(app: Harness) -> Clock:
    """The scheduler's jobs, not started: the test says when they fire."""
    return Clock(app.ctx)


async def make_survey(h: Harness, **overrides: Any) -> Survey:
    values: dict[str, Any] = {
        "bank_ids": ["staff-trust-in-leadership"],
        "audience": [SMALL],
        "digest_channel": LEADERS,
        "items_per_round": 1,
        "k": 3,
    }
    values.update(overrides)
    async with h.db.session() as session:
        survey = SurveyConfig.model_validate(values).to_model()
        session.add(survey)
        await session.flush()
    return survey


async def rounds_of(db: Database, survey_id: int) -> list[Round]:
    async with db.session() as s:
        return list((await s.scalars(select(Round).where(Round.survey_id == survey_id).order_by(Round.seq))).all())


async def count(db: Database, table: type[Any]) -> int:
    async with db.session() as s:
        return int(await s.scalar(select(func.count()).select_from(table)) or 0)


async def every_row(db: Database) -> str:
    """Every value in every table, as one string to search."""
    async with db.engine.connect() as conn:
        names = await conn.run_sync(lambda c: inspect(c).get_table_names())
        dumps = [repr((await conn.execute(text(f'SELECT * FROM "{n}"'))).all()) for n in names]
    return "\n".join(dumps)


def reminders_to(double: SlackDouble) -> list[dict[str, Any]]:
    return [e for e in double.ephemerals if "Reminder" in (e.get("text") or "")]


async def answer(
    app: Harness, double: SlackDouble, user: str, channel: str, message: dict[str, Any], n: int = 1
) -> None:
    """`user` clicks the first option of the first `n` items of `message`, as Slack would send it."""
    before = len(double.ephemerals)
    for options in list(buttons_of(message).values())[:n]:
        assert await app.click(user, channel, options[0]) == 200
    await app.wait_for(lambda: len(double.ephemerals) >= before + n)


# -- holidays --------------------------------------------------------------------------------------


async def test_a_holiday_skips_the_round_and_the_rotation_carries_on_afterwards(
    app: Harness, double: SlackDouble, sim: SimClock, clock: Clock
) -> None:
    on_holiday = await make_survey(app, audience=[SCHOOL_A], items_per_round=2)
    control = await make_survey(app, audience=[SCHOOL_B], items_per_round=2)
    async with app.db.session() as s:
        # Same rotation order for both, so the control shows what the next round should ask.
        (await s.get(Survey, control.id)).seed = on_holiday.seed  # type: ignore[union-attr]
        await calendar.add_holiday(
            s, survey_id=on_holiday.id, starts=dt.date(2026, 9, 14), ends=dt.date(2026, 9, 18), label="Closure"
        )

    for day in (7, 14, 21):
        sim.now = london(2026, 9, day)
        await clock.open_round(on_holiday.id)
        await clock.open_round(on_holiday.id)  # a double fire changes nothing
        await clock.open_round(control.id)
        if day == 14:
            # Nothing opened, nothing queued, nothing posted for the survey on holiday...
            assert [r.seq for r in await rounds_of(app.db, on_holiday.id)] == [1]
            assert len(double.messages_in(SCHOOL_A)) == 1
            # ...and nothing caught up later in the week or the morning the holiday ends.
            for later in (london(2026, 9, 14, 12), london(2026, 9, 15), london(2026, 9, 19), london(2026, 9, 21, 8)):
                sim.now = later
                await clock.open_round(on_holiday.id)
            assert [r.seq for r in await rounds_of(app.db, on_holiday.id)] == [1]

    skipped, normal = await rounds_of(app.db, on_holiday.id), await rounds_of(app.db, control.id)
    assert [r.slot for r in skipped] == [london(2026, 9, 7), london(2026, 9, 21)]
    assert [r.seq for r in skipped] == [1, 2] and [r.seq for r in normal] == [1, 2, 3]
    # Round 2 asks what the second round asks without a holiday: the rotation lost nothing.
    assert skipped[1].items == normal[1].items
    assert not {i["item"] for i in skipped[0].items} & {i["item"] for i in skipped[1].items}
    assert len(double.messages_in(SCHOOL_A)) == 2 and len(double.messages_in(SCHOOL_B)) == 3


async def test_a_holiday_for_every_survey_skips_them_all(app: Harness, sim: SimClock, clock: Clock) -> None:
    one, two = await make_survey(app, audience=[SCHOOL_A]), await make_survey(app, audience=[SCHOOL_B])
    async with app.db.session() as s:
        await calendar.import_holidays(s, "2026-09-07,2026-09-07,Staff training\n", survey_id=None)
    for s_ in (one, two):
        await clock.open_round(s_.id)
    assert await count(app.db, Round) == 0 and await count(app.db, Delivery) == 0


# -- quiet hours ---------------------------------------------------------------------------------


async def test_a_round_due_in_quiet_hours_goes_when_they_end_and_once(
    app: Harness, double: SlackDouble, sim: SimClock, clock: Clock
) -> None:
    survey = await make_survey(app, schedule="30 6 * * 1")  # quiet until 07:00
    sim.now = london(2026, 9, 7, 6, 30)
    await clock.open_round(survey.id)
    assert await rounds_of(app.db, survey.id) == [] and double.messages_in(SMALL) == []
    sim.now = london(2026, 9, 7, 7, 0)
    await clock.open_round(survey.id)
    sim.now = london(2026, 9, 7, 7, 1)
    await clock.open_round(survey.id)
    [round_] = await rounds_of(app.db, survey.id)
    assert (round_.slot, round_.opened_at) == (london(2026, 9, 7, 6, 30), london(2026, 9, 7, 7, 0))
    assert len(double.messages_in(SMALL)) == 1


async def test_the_clock_schedules_rounds_at_their_send_times_with_stable_job_ids(app: Harness, clock: Clock) -> None:
    survey = await make_survey(app, schedule="30 6 * * 1")
    clock.start()
    try:
        await app.wait_for(lambda: clock.scheduler.get_job(f"round:{survey.id}") is not None)
        job = clock.scheduler.get_job(f"round:{survey.id}")
        assert isinstance(job.trigger, RoundTrigger)
        fires = job.next_run_time.astimezone(LONDON)
        assert (fires.weekday(), fires.hour, fires.minute) == (0, 7, 0)  # deferred from 06:30
        ids = {j.id for j in clock.scheduler.get_jobs()}
        assert {"close-rounds", "reminders", f"round:{survey.id}", f"digest:{survey.id}"} <= ids
    finally:
        clock.shutdown()


# -- reminders -----------------------------------------------------------------------------------


async def test_reminder_goes_only_to_the_three_who_have_not_answered_and_names_nobody(
    app: Harness,
    double: SlackDouble,
    sim: SimClock,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    quiet_chatty_loggers()
    caplog.set_level(logging.DEBUG)
    survey = await make_survey(app)  # one channel, five staff, 72 hours, remind 24 hours before
    await clock.open_round(survey.id)
    [posted] = double.messages_in(SMALL)
    for user in FIVE[:2]:
        await answer(app, double, user, SMALL, posted)

    sim.now = MONDAY + dt.timedelta(hours=47, minutes=59)
    await clock.remind()
    assert reminders_to(double) == []

    sim.now = MONDAY + dt.timedelta(hours=48)  # Wednesday 09:00
    await asyncio.gather(clock.remind(), clock.remind())  # a double fire
    await clock.remind()
    reminded = reminders_to(double)
    assert sorted(r["user"] for r in reminded) == FIVE[2:]
    assert {r["channel"] for r in reminded} == {SMALL}
    for r in reminded:
        assert validate_blocks(r["blocks"]) == []
        assert "still to answer" in r["text"]
    [round_] = await rounds_of(app.db, survey.id)
    assert round_.reminded_at == sim.now

    # Nothing anywhere says who was reminded or who had not answered.
    rows = await every_row(app.db)
    records = [rec.getMessage() for rec in caplog.records]
    for user in FIVE:
        assert user not in rows
        assert not any(user in line for line in records), user

    # The reminder carries the items: answering from it counts, in the right school.
    await answer(app, double, FIVE[2], SMALL, reminded[0] if reminded[0]["user"] == FIVE[2] else reminded[1])
    async with app.db.session() as s:
        segments = (await s.scalars(select(HeldAnswer.segment))).all()
    assert sorted(segments) == [SMALL] * 3


async def test_dm_audience_reminded_by_dm_then_closing_purges_who_was_sent_to(
    app: Harness, double: SlackDouble, sim: SimClock, clock: Clock
) -> None:
    survey = await make_survey(app, audience_kind="usergroup", audience=[GROUP], items_per_round=2)
    await clock.open_round(survey.id)
    dms = {u: SlackDouble.dm_id([u]) for u in FIVE}
    assert all(len(double.messages_in(dms[u])) == 1 for u in FIVE)
    async with app.db.session() as s:
        assert sorted((await s.scalars(select(Delivery.destination))).all()) == FIVE  # DM rows name people
    # Two answer both items; one answers only the first; two answer nothing.
    for user in FIVE[:2]:
        await answer(app, double, user, dms[user], double.messages_in(dms[user])[0], n=2)
    await answer(app, double, FIVE[2], dms[FIVE[2]], double.messages_in(dms[FIVE[2]])[0], n=1)

    sim.now = MONDAY + dt.timedelta(hours=48)
    await clock.remind()
    got_reminder = [u for u in FIVE if len(double.messages_in(dms[u])) == 2]
    assert got_reminder == FIVE[2:]
    partial = double.messages_in(dms[FIVE[2]])[1]
    assert "1 of 2 items" in partial["text"] and validate_blocks(partial["blocks"]) == []
    assert "2 of 2 items" in double.messages_in(dms[FIVE[3]])[1]["text"]
    # A reminder in a DM stays there, so where it went is kept while the round is open.
    assert await count(app.db, SentReminder) == 3

    # Closing: after the window, once however often it fires; the rows naming people are gone.
    sim.now = MONDAY + dt.timedelta(hours=71, minutes=59)
    await clock.close_rounds()
    assert await count(app.db, Delivery) == 5
    assert double.deletions == []
    sim.now = MONDAY + dt.timedelta(hours=72)
    await asyncio.gather(clock.close_rounds(), clock.close_rounds())
    [round_] = await rounds_of(app.db, survey.id)
    assert (round_.closed_at, round_.sent_count, round_.audience_size) == (sim.now, 5, 5)
    assert await count(app.db, Delivery) == 0
    rows = await every_row(app.db)
    assert not [u for u in FIVE if u in rows]
    # The reminders are taken back: each DM holds the round's message alone, as everyone's does,
    # and nothing here says where a reminder went; the files are scrubbed after it.
    assert sorted(d["channel"] for d in double.deletions) == sorted(dms[u] for u in FIVE[2:])
    assert all(len(double.messages_in(dms[u])) == 1 for u in FIVE)
    assert await count(app.db, SentReminder) == 0
    assert not [u for u in FIVE if dms[u] in rows]
    assert await awaiting_scrub(app.db) == 0

    # A closed round takes no more answers and sends no more reminders.
    answers_before = await count(app.db, HeldAnswer)
    late = double.messages_in(dms[FIVE[4]])[0]
    assert await app.click(FIVE[4], dms[FIVE[4]], next(iter(buttons_of(late).values()))[0]) == 200
    await app.wait_for(lambda: any("has closed" in (e.get("text") or "") for e in double.ephemerals))
    assert await count(app.db, HeldAnswer) == answers_before
    await clock.remind()
    assert all(len(double.messages_in(dms[u])) == 1 for u in FIVE)


async def test_a_reminder_slack_will_not_delete_yet_is_tried_again_then_forgotten_after_a_day(
    app: Harness, double: SlackDouble, sim: SimClock, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    survey = await make_survey(app, audience_kind="usergroup", audience=[GROUP])
    await clock.open_round(survey.id)
    sim.now = MONDAY + dt.timedelta(hours=48)
    await clock.remind()
    assert await count(app.db, SentReminder) == 5

    # Slack is down at the close: the round closes and seals all the same; the reminders wait.
    double.faults.fail_next("chat.delete", 5, 503, error="service_unavailable")
    sim.now = MONDAY + dt.timedelta(hours=72)
    await clock.close_rounds()
    [round_] = await rounds_of(app.db, survey.id)
    assert round_.closed_at is not None and double.deletions == []
    assert await count(app.db, SentReminder) == 5

    # The next tick: two of them go; the others still fail.
    double.faults.fail_next("chat.delete", 3, 503, error="service_unavailable")
    sim.now += dt.timedelta(minutes=1)
    await clock.close_rounds()
    assert len(double.deletions) == 2 and await count(app.db, SentReminder) == 3
    # A day after the close the database forgets them even though Slack never let them go.
    double.faults.fail_next("chat.delete", 3, 503, error="service_unavailable")
    sim.now = MONDAY + dt.timedelta(hours=96)
    caplog.set_level(logging.WARNING)
    await clock.close_rounds()
    assert len(double.deletions) == 2 and await count(app.db, SentReminder) == 0
    assert any("could not be deleted" in r.getMessage() for r in caplog.records)
    assert await awaiting_scrub(app.db) == 0


async def test_reminder_waits_out_the_weekend_and_quiet_hours_and_skips_holidays(
    app: Harness, double: SlackDouble, sim: SimClock, clock: Clock
) -> None:
    # Friday 09:00 rounds open for 72 hours: the reminder falls due on Sunday at 09:00.
    working = await make_survey(app, schedule="0 9 * * 5", audience=[SCHOOL_A])
    on_holiday = await make_survey(app, schedule="0 9 * * 5", audience=[SCHOOL_B])
    async with app.db.session() as s:
        await calendar.add_holiday(
            s, survey_id=on_holiday.id, starts=dt.date(2026, 9, 14), ends=dt.date(2026, 9, 14), label="INSET"
        )
    sim.now = london(2026, 9, 11)
    await clock.open_round(working.id)
    await clock.open_round(on_holiday.id)
    for when in (london(2026, 9, 13, 9), london(2026, 9, 13, 20), london(2026, 9, 14, 6, 59)):
        sim.now = when
        await clock.remind()
        assert reminders_to(double) == [], when
    sim.now = london(2026, 9, 14, 7, 0)  # Monday: quiet hours over, two hours before closing
    await clock.remind()
    assert sorted(r["user"] for r in reminders_to(double)) == STAFF_A
    sim.now = london(2026, 9, 14, 9, 0)
    await clock.close_rounds()
    await clock.remind()
    assert {r["channel"] for r in reminders_to(double)} == {SCHOOL_A}
    assert all(r.closed_at is not None for r in await rounds_of(app.db, on_holiday.id))


async def test_a_paused_survey_sends_no_reminder_and_a_survey_may_opt_out(
    app: Harness, double: SlackDouble, sim: SimClock, clock: Clock
) -> None:
    paused = await make_survey(app, audience=[SCHOOL_A])
    no_reminders = await make_survey(app, audience=[SCHOOL_B], remind_hours=0)
    await clock.open_round(paused.id)
    await clock.open_round(no_reminders.id)
    async with app.db.session() as s:
        (await s.get(Survey, paused.id)).paused = True  # type: ignore[union-attr]
    sim.now = MONDAY + dt.timedelta(hours=60)
    await clock.remind()
    assert reminders_to(double) == []
    assert json.dumps([r.reminded_at for r in await rounds_of(app.db, paused.id)], default=str) == "[null]"


async def test_a_rate_limit_is_waited_out_and_one_unreachable_person_does_not_stop_the_rest(
    app: Harness, double: SlackDouble, sim: SimClock, clock: Clock
) -> None:
    survey = await make_survey(app, audience=[MIXED])
    await clock.open_round(survey.id)
    double.faults.rate_limit_next("chat.postEphemeral", 1, retry_after=0)
    sim.now = MONDAY + dt.timedelta(hours=48)
    await clock.remind()
    assert sorted(r["user"] for r in reminders_to(double)) == FIVE[:3]
    assert [c.status for c in double.calls_to("chat.postEphemeral")].count(429) == 1


async def test_a_scrub_blocked_by_a_reader_is_counted_and_done_on_a_later_tick(
    app: Harness, sim: SimClock, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    if not app.db.is_sqlite:
        pytest.skip("SQLite's checkpoint waits for readers; PostgreSQL's VACUUM does not")
    survey = await make_survey(app)
    await clock.open_round(survey.id)
    sim.now += dt.timedelta(hours=73)
    reader = sqlite3.connect(str(make_url(app.db.url).database))
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM rounds").fetchone()  # a read under way holds the WAL
        started = time.monotonic()
        await clock.close_rounds()  # sealed; the scrub is postponed at once, not after 30 s
        assert time.monotonic() - started < 10
        assert await awaiting_scrub(app.db) == 1
    finally:
        reader.close()
    await clock.close_rounds()  # the next tick scrubs it
    assert await awaiting_scrub(app.db) == 0
    caplog.set_level(logging.INFO)
    app.ctx.counters.flush()
    assert app.ctx.counters.published() == {"scrub postponed": 1}
