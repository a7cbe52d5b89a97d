"""The end-to-end scenarios, written once and run on Slack and on Teams (see drivers.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from storage.models import HeldAnswer, Round, Survey
from surveys.banks import BankRegistry
from tests.e2e.teams.drivers import Driver, driver_for


@pytest.fixture(params=["slack", "teams"])
async def driver(request: pytest.FixtureRequest, db_url: str, banks: BankRegistry) -> AsyncIterator[Driver]:
    async with driver_for(request.param, db_url, banks) as d:
        yield d


async def _rows(d: Driver) -> list[HeldAnswer]:
    async with d.h.db.session() as s:
        return list((await s.scalars(select(HeldAnswer))).all())


async def test_a_round_is_sent_answered_changed_and_digested(driver: Driver) -> None:
    d = driver
    survey = await d.make_survey(k=5, round_hours=48)
    report = await d.open_round(survey)
    assert (report.sent, report.failed) == (2, 0)
    for school in d.schools:
        assert d.round_posts(school) == 1
        assert [len(options) for options in d.buttons(school).values()] == [4, 4]

    school = d.schools[0]
    staff = d.staff(school)
    (first, first_opts), (second, second_opts) = list(d.buttons(school).items())
    pick = {b.option: b for b in first_opts}
    for i, person in enumerate(staff[:6]):
        said = await d.answer(person, school, pick["agree" if i < 4 else "strongly-disagree"])
        assert "recorded anonymously" in said
    # Someone changes their mind: replaced, not added.
    said = await d.answer(staff[0], school, pick["disagree"])
    assert "Changed from Agree to Disagree" in said and "counted once" in said
    said = await d.answer(staff[0], school, pick["disagree"])
    assert "nothing changed" in said
    for person in staff[:4]:  # too few for the second item's figure to be shown
        await d.answer(person, school, second_opts[0])

    rows = await _rows(d)
    assert len(rows) == 6 + 4 and {r.segment for r in rows} == {school}
    assert sorted(r.option for r in rows if r.item_id == first) == sorted(
        ["disagree", "agree", "agree", "agree", "strongly-disagree", "strongly-disagree"]
    )

    d.clock.advance(dt.timedelta(hours=49))  # digests count closed rounds
    digest, shown, problems = await d.post_digest(survey)
    assert problems == []
    by_item = {i.item_id: i for i in digest.items}
    assert (by_item[first].n, by_item[first].favourable_pct) == (6, 50.0)
    assert by_item[second].suppressed and by_item[second].favourable_pct is None
    assert "50%" in shown and "hidden" in shown
    async with d.h.db.session() as s:
        [round_] = (await s.scalars(select(Round))).all()
    assert round_.audience_size == 24


async def test_a_non_coordinator_is_refused_and_nothing_changes(driver: Driver) -> None:
    d = driver
    survey = await d.make_survey()
    person = d.staff(d.schools[0])[0]
    said = await d.command(person, f"pause {survey.id}")
    assert said.startswith("Sorry, only Pulse coordinators can pause surveys") and "Nothing was changed" in said
    # Whom to ask, in the platform's own terms: Teams has no admins the app can see.
    if d.name == "teams":
        assert "named in Pulse Audit's configuration" in said and "workspace admins" not in said
    else:
        assert "workspace admins and owners" in said
    said = await d.command(person, f"send-now {survey.id}")
    assert "only Pulse coordinators" in said
    async with d.h.db.session() as s:
        assert not (await s.get(Survey, survey.id)).paused
        assert (await s.scalars(select(Round))).first() is None
    assert all(d.round_posts(school) == 0 for school in d.schools)
    said = await d.command(d.coordinator, f"pause {survey.id}")
    assert f"Survey {survey.id} paused" in said
    async with d.h.db.session() as s:
        assert (await s.get(Survey, survey.id)).paused
