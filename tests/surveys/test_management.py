"""Running surveys in the database: create, change, pause, delete, status, and what a person sees."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from storage.db import Database
from storage.models import Delivery, HeldAnswer, Holiday, Round, RoundKey, Survey
from surveys import calendar, management
from surveys.answers import Answer, record_answer
from surveys.banks import BankRegistry
from surveys.config import SurveyConfig
from surveys.participant import open_rounds_for
from tests.surveys.helpers import NOW, SCHOOL, new_round, seal_round

BANK = "staff-trust-in-leadership"
SECRET = b"management-test-secret"


def config(**changes: object) -> SurveyConfig:
    values: dict[str, object] = {
        "bank_ids": [BANK],
        "audience": [SCHOOL],
        "digest_channel": "C0LEADERS",
        "schedule": "0 9 * * mon",
        "cadence": "weekly",
        "workspace_id": "T1",
        "items_per_round": 2,
    }
    values.update(changes)
    return SurveyConfig.model_validate(values)


async def create(db: Database, **changes: object) -> Survey:
    async with db.session() as session:
        return await management.create_survey(session, config(**changes), now=NOW)


async def count(db: Database, model: type) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_surveys_are_seen_from_their_own_workspace_only(db: Database) -> None:
    mine = await create(db)
    theirs = await create(db, workspace_id="T2")
    shared = await create(db, workspace_id=None)
    async with db.session() as session:
        assert [s.id for s in await management.surveys_in(session, "T1")] == [mine.id, shared.id]
        assert await management.find_survey(session, theirs.id, "T1") is None
        assert await management.find_survey(session, theirs.id, None) is not None


async def test_update_keeps_seed_state_and_workspace_and_restarts_the_fortnight(db: Database) -> None:
    survey = await create(db)
    later = NOW + dt.timedelta(days=3)
    async with db.session() as session:
        await management.set_paused(session, survey.id, True, workspace_id="T1")
        changed = await management.update_survey(
            session,
            survey.id,
            config(name="Renamed", cadence="fortnightly", workspace_id="T9"),
            workspace_id="T1",
            now=later,
        )
        assert (changed.name, changed.seed, changed.paused) == ("Renamed", survey.seed, True)
        assert changed.workspace_id == "T1"
        assert changed.cadence_anchor == later
        unchanged = await management.update_survey(
            session,
            survey.id,
            config(name="Again", cadence="fortnightly"),
            workspace_id="T1",
            now=later + dt.timedelta(days=1),
        )
        assert unchanged.cadence_anchor == later


async def test_pause_and_resume_say_whether_anything_changed(db: Database) -> None:
    survey = await create(db)
    async with db.session() as session:
        assert await management.set_paused(session, survey.id, True, workspace_id="T1") is True
        assert await management.set_paused(session, survey.id, True, workspace_id="T1") is False
        assert await management.set_paused(session, survey.id, False, workspace_id="T1") is True


async def test_delete_takes_rounds_deliveries_answers_and_holidays_with_it(db: Database, banks: BankRegistry) -> None:
    round_ = await new_round(db, banks, [BANK])
    async with db.session() as session:
        session.add(Delivery(round_id=round_.id, destination=SCHOOL, segment=SCHOOL))
        await calendar.add_holiday(
            session, survey_id=round_.survey_id, starts=dt.date(2026, 10, 26), ends=dt.date(2026, 10, 30), label="x"
        )
    item = round_.items[0]["item"]
    await record_answer(
        db, banks, SECRET, Answer(r=round_.id, i=item, o="agree"), user_id="U1", channel_id=SCHOOL, now=NOW
    )
    assert await count(db, HeldAnswer) == 1
    async with db.session() as session:
        assert await management.delete_survey(session, round_.survey_id, workspace_id=None) == "Trust pulse"
    for model in (Survey, Round, Delivery, HeldAnswer, RoundKey, Holiday):
        assert await count(db, model) == 0, model.__name__


async def _answer(
    db: Database, banks: BankRegistry, round_: Round, users: list[str], option: str = "agree", at: dt.datetime = NOW
) -> None:
    for user in users:
        for ref in round_.items:
            await record_answer(
                db,
                banks,
                SECRET,
                Answer(r=round_.id, i=ref["item"], o=option),
                user_id=user,
                channel_id=SCHOOL,
                now=at,
            )


async def test_status_hides_participation_below_k_and_counts_failed_sends(db: Database, banks: BankRegistry) -> None:
    round_ = await new_round(db, banks, [BANK], items=2)
    await _answer(db, banks, round_, ["U1", "U2", "U3", "U4"])
    async with db.session() as session:
        session.add(Delivery(round_id=round_.id, destination="C0GONE", segment="C0GONE", status="failed"))
        survey = await session.get(Survey, round_.survey_id)
        assert survey is not None
        status = await management.status_of(session, survey, now=NOW + dt.timedelta(hours=1))
    assert status.latest_round is not None
    assert status.latest_round.too_few and status.latest_round.answers_per_item is None
    assert status.latest_round.open
    assert (status.failed_deliveries, status.failed_reasons) == (1, ("C0GONE: unknown error",))

    await _answer(db, banks, round_, ["U5", "U6"])
    async with db.session() as session:
        survey = await session.get(Survey, round_.survey_id)
        assert survey is not None
        status = await management.status_of(session, survey, now=NOW + dt.timedelta(hours=2))
    # Open: shown only coarsely, so no one can watch it move with each answer.
    assert status.latest_round is not None
    assert (status.latest_round.too_few, status.latest_round.answers_per_item) == (False, 5)

    await seal_round(db, round_.id, now=NOW + dt.timedelta(days=3))
    async with db.session() as session:
        survey = await session.get(Survey, round_.survey_id)
        assert survey is not None
        status = await management.status_of(session, survey, now=NOW + dt.timedelta(days=4))
    assert status.latest_round is not None
    assert (status.latest_round.too_few, status.latest_round.answers_per_item) == (False, 6.0)
    assert not status.latest_round.open


async def test_an_open_rounds_participation_moves_at_most_once_an_hour(db: Database, banks: BankRegistry) -> None:
    round_ = await new_round(db, banks, [BANK], items=1)

    async def shown(at: dt.datetime) -> float | None:
        async with db.session() as session:
            survey = await session.get(Survey, round_.survey_id)
            assert survey is not None
            status = await management.status_of(session, survey, now=at)
        assert status.latest_round is not None
        return status.latest_round.answers_per_item

    await _answer(db, banks, round_, [f"U{n}" for n in range(6)], at=NOW + dt.timedelta(minutes=10))
    # Six answered at 08:10: a watcher at 08:11 or 08:59 sees nothing move; from 09:00 it shows.
    assert await shown(NOW + dt.timedelta(minutes=11)) is None
    assert await shown(NOW + dt.timedelta(minutes=59)) is None
    assert await shown(NOW + dt.timedelta(hours=1)) == 5
    await _answer(db, banks, round_, [f"U{n}" for n in range(6, 11)], at=NOW + dt.timedelta(hours=1, minutes=5))
    assert await shown(NOW + dt.timedelta(hours=1, minutes=6)) == 5  # not yet: the hour's count stands
    assert await shown(NOW + dt.timedelta(hours=2)) == 10


async def test_status_counts_every_failed_send_not_just_the_listed_ones(db: Database, banks: BankRegistry) -> None:
    round_ = await new_round(db, banks, [BANK], items=1)
    async with db.session() as session:
        session.add_all(
            Delivery(round_id=round_.id, destination=f"U{n:04d}", segment=SCHOOL, status="failed", error="gone")
            for n in range(73)
        )
        session.add(Delivery(round_id=round_.id, destination="C0FINE", segment=SCHOOL, status="sent"))
    async with db.session() as session:
        survey = await session.get(Survey, round_.survey_id)
        assert survey is not None
        status = await management.status_of(session, survey, now=NOW + dt.timedelta(hours=1))
    # The reasons come from a capped list (people's DMs unnamed, repeats merged); the count does not.
    assert status.failed_deliveries == 73
    assert status.failed_reasons == ("a direct message: gone",)


async def test_next_round_skips_holidays_and_fortnights_and_pauses(db: Database) -> None:
    weekly = await create(db)
    fortnightly = await create(db, cadence="fortnightly")
    now = dt.datetime(2026, 10, 14, 12, tzinfo=dt.UTC)  # a Wednesday
    async with db.session() as session:
        assert (await management.status_of(session, weekly, now=now)).next_run == dt.datetime(
            2026, 10, 19, 8, tzinfo=dt.UTC
        )
        await calendar.add_holiday(
            session, survey_id=None, starts=dt.date(2026, 10, 19), ends=dt.date(2026, 10, 23), label="Half term"
        )
        assert await management.next_round_at(session, weekly, now) == dt.datetime(2026, 10, 26, 9, tzinfo=dt.UTC)
        # Created at 09:00 on Monday 7 September: its fortnight runs 14 and 28 Sep, 12 and 26 Oct.
        assert await management.next_round_at(session, fortnightly, now) == dt.datetime(2026, 10, 26, 9, tzinfo=dt.UTC)
        await calendar.add_holiday(
            session, survey_id=fortnightly.id, starts=dt.date(2026, 10, 26), ends=dt.date(2026, 10, 26), label="Inset"
        )
        # Its next fortnight after the holiday, not the following week.
        assert await management.next_round_at(session, fortnightly, now) == dt.datetime(2026, 11, 9, 9, tzinfo=dt.UTC)
        await management.set_paused(session, weekly.id, True, workspace_id=None)
        paused = await session.get(Survey, weekly.id)
        assert paused is not None
        assert (await management.status_of(session, paused, now=now)).next_run is None


async def test_a_person_sees_their_own_answers_and_no_one_elses(db: Database, banks: BankRegistry) -> None:
    round_ = await new_round(db, banks, [BANK], items=2)
    first, second = (ref["item"] for ref in round_.items)
    await record_answer(
        db, banks, SECRET, Answer(r=round_.id, i=first, o="disagree"), user_id="U1", channel_id=SCHOOL, now=NOW
    )
    await record_answer(
        db, banks, SECRET, Answer(r=round_.id, i=second, o="agree"), user_id="U2", channel_id=SCHOOL, now=NOW
    )
    async with db.session() as session:
        survey = await session.get(Survey, round_.survey_id)
        assert survey is not None
        mine = await open_rounds_for(session, banks, SECRET, "U1", [survey], now=NOW + dt.timedelta(hours=1))
        theirs = await open_rounds_for(session, banks, SECRET, "U2", [survey], now=NOW + dt.timedelta(hours=1))
        after = await open_rounds_for(session, banks, SECRET, "U1", [survey], now=NOW + dt.timedelta(days=4))
    [r] = mine
    assert [(i.item_id, i.answered) for i in r.items] == [(first, ("Disagree",)), (second, ())]
    assert [(i.item_id, i.answered) for i in theirs[0].items] == [(first, ()), (second, ("Agree",))]
    assert after == []
